//! Topic names: grammar, validation and wildcard matching.
//!
//! Two namespaces:
//! - **reserved** topics start with `lvt:`. `lvt:session:<group>` and `lvt:user:<user>` are
//!   self topics ("my other tabs"); a connection may subscribe to its own self topic only,
//!   and no ACL is asked.
//! - **developer** topics are `/`-separated segments of `[A-Za-z0-9_-]+`, e.g. `room/lobby`.
//!   A subscription may use `*` for one whole segment (`room/*`, `*/alice`); a publish may not.
//!
//! This module is pure string logic; who may subscribe is decided by [`super::acl`].

use thiserror::Error;

/// The prefix of reserved topics.
pub const RESERVED_PREFIX: &str = "lvt:";
/// Longest accepted topic, in bytes.
pub const MAX_TOPIC_LEN: usize = 256;

/// Why a topic string was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TopicError {
    /// The topic is empty.
    #[error("topic is empty")]
    Empty,
    /// The topic is longer than [`MAX_TOPIC_LEN`].
    #[error("topic is {len} bytes long; the limit is {MAX_TOPIC_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// A reserved `lvt:` topic other than the caller's own self topic.
    #[error("topic `{0}` is in the reserved `lvt:` namespace; only your own self topic (`ctx.self_topic()`) may be subscribed")]
    Reserved(String),
    /// A segment is empty or holds a character outside `[A-Za-z0-9_-]`.
    #[error("topic `{topic}` has an invalid segment `{segment}`: segments are `/`-separated and made of letters, digits, `_` and `-` (or `*` to subscribe to a pattern)")]
    BadSegment {
        /// The whole topic.
        topic: String,
        /// The offending segment.
        segment: String,
    },
    /// A wildcard where only a concrete topic is allowed (publishing).
    #[error(
        "topic `{0}` is a pattern; publish to a concrete topic (wildcards are for subscribing)"
    )]
    Pattern(String),
}

/// One segment of a subscription pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(Box<str>),
    Any,
}

/// A validated subscription: a concrete topic or a pattern with `*` segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPattern {
    raw: Box<str>,
    /// `None` for concrete topics (matched by string equality).
    segments: Option<Box<[Segment]>>,
}

impl TopicPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether it contains a `*` segment.
    pub fn is_pattern(&self) -> bool {
        self.segments.is_some()
    }

    /// Whether the concrete topic `topic` matches (whole segments only).
    pub fn matches(&self, topic: &str) -> bool {
        match &self.segments {
            None => &*self.raw == topic,
            Some(segs) => {
                // Patterns are developer subscriptions: they never reach reserved
                // topics (`*` would otherwise match `lvt:session:<someone>`).
                if topic.starts_with(RESERVED_PREFIX) {
                    return false;
                }
                let mut parts = topic.split('/');
                for seg in segs.iter() {
                    match (seg, parts.next()) {
                        (_, None) => return false,
                        (Segment::Any, Some(p)) => {
                            if p.is_empty() {
                                return false;
                            }
                        }
                        (Segment::Literal(l), Some(p)) => {
                            if **l != *p {
                                return false;
                            }
                        }
                    }
                }
                parts.next().is_none()
            }
        }
    }
}

/// The self topic of a caller: `lvt:user:<user>` when authenticated, else
/// `lvt:session:<group>`.
pub fn self_topic(user_id: Option<&str>, group_id: &str) -> String {
    match user_id {
        Some(u) if !u.is_empty() => format!("{RESERVED_PREFIX}user:{u}"),
        _ => format!("{RESERVED_PREFIX}session:{group_id}"),
    }
}

/// The topic that reaches every self-topic subscriber of `user_id` (for out-of-band
/// publishes to one user).
pub fn user_topic(user_id: &str) -> String {
    format!("{RESERVED_PREFIX}user:{user_id}")
}

fn check_len(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong { len: topic.len() });
    }
    Ok(())
}

fn valid_literal(seg: &str) -> bool {
    !seg.is_empty()
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What a subscription turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// The caller's own self topic: no ACL is asked.
    SelfTopic(TopicPattern),
    /// A developer topic or pattern: the ACL decides.
    Developer(TopicPattern),
}

impl Subscription {
    /// The validated pattern.
    pub fn pattern(&self) -> &TopicPattern {
        match self {
            Subscription::SelfTopic(p) | Subscription::Developer(p) => p,
        }
    }
}

/// Validate a subscription by a caller whose self topic is `own_self_topic`.
pub fn parse_subscription(topic: &str, own_self_topic: &str) -> Result<Subscription, TopicError> {
    check_len(topic)?;
    if topic.starts_with(RESERVED_PREFIX) {
        if topic == own_self_topic {
            return Ok(Subscription::SelfTopic(TopicPattern {
                raw: topic.into(),
                segments: None,
            }));
        }
        return Err(TopicError::Reserved(topic.to_string()));
    }
    let mut segments = Vec::new();
    let mut wildcard = false;
    for seg in topic.split('/') {
        if seg == "*" {
            wildcard = true;
            segments.push(Segment::Any);
        } else if valid_literal(seg) {
            segments.push(Segment::Literal(seg.into()));
        } else {
            return Err(TopicError::BadSegment {
                topic: topic.to_string(),
                segment: seg.to_string(),
            });
        }
    }
    Ok(Subscription::Developer(TopicPattern {
        raw: topic.into(),
        segments: wildcard.then(|| segments.into_boxed_slice()),
    }))
}

/// Validate a topic to publish to: any `lvt:` topic, or a concrete developer topic.
pub fn validate_publish(topic: &str) -> Result<(), TopicError> {
    check_len(topic)?;
    if let Some(rest) = topic.strip_prefix(RESERVED_PREFIX) {
        if rest.is_empty() {
            return Err(TopicError::BadSegment {
                topic: topic.to_string(),
                segment: String::new(),
            });
        }
        return Ok(());
    }
    for seg in topic.split('/') {
        if seg == "*" {
            return Err(TopicError::Pattern(topic.to_string()));
        }
        if !valid_literal(seg) {
            return Err(TopicError::BadSegment {
                topic: topic.to_string(),
                segment: seg.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(t: &str) -> Result<Subscription, TopicError> {
        parse_subscription(t, "lvt:session:g1")
    }

    #[test]
    fn self_topic_by_user_or_group() {
        assert_eq!(self_topic(None, "g1"), "lvt:session:g1");
        assert_eq!(self_topic(Some(""), "g1"), "lvt:session:g1");
        assert_eq!(self_topic(Some("alice"), "g1"), "lvt:user:alice");
    }

    #[test]
    fn own_self_topic_is_exempt_other_reserved_refused() {
        assert!(matches!(
            sub("lvt:session:g1"),
            Ok(Subscription::SelfTopic(_))
        ));
        assert_eq!(
            sub("lvt:session:g2"),
            Err(TopicError::Reserved("lvt:session:g2".into()))
        );
        assert_eq!(
            sub("lvt:user:bob"),
            Err(TopicError::Reserved("lvt:user:bob".into()))
        );
        assert!(matches!(sub("lvt:*"), Err(TopicError::Reserved(_))));
    }

    #[test]
    fn developer_grammar() {
        assert!(matches!(sub("room/lobby"), Ok(Subscription::Developer(_))));
        assert!(matches!(sub("a_b-C9"), Ok(Subscription::Developer(_))));
        for bad in [
            "room//x", "/room", "room/", "ro om", "room/é", "room.x", "room/*x", "a:b",
        ] {
            assert!(
                matches!(sub(bad), Err(TopicError::BadSegment { .. })),
                "{bad}"
            );
        }
        assert_eq!(sub(""), Err(TopicError::Empty));
        assert_eq!(sub(&"a".repeat(300)), Err(TopicError::TooLong { len: 300 }));
    }

    #[test]
    fn wildcards_match_whole_segments_only() {
        let p = sub("room/*").unwrap().pattern().clone();
        assert!(p.is_pattern());
        assert!(p.matches("room/1"));
        assert!(p.matches("room/lobby"));
        assert!(!p.matches("room"));
        assert!(!p.matches("room/1/x"));
        assert!(!p.matches("rooms/1"));
        let p = sub("*/alice").unwrap().pattern().clone();
        assert!(p.matches("dm/alice"));
        assert!(!p.matches("dm/alicea"));
        let p = sub("room/lobby").unwrap().pattern().clone();
        assert!(!p.is_pattern());
        assert!(p.matches("room/lobby"));
        assert!(!p.matches("room/lobby2"));
    }

    #[test]
    fn patterns_never_reach_reserved_topics() {
        let any = sub("*").unwrap().pattern().clone();
        assert!(any.matches("lobby"));
        assert!(!any.matches("lvt:session:someone"));
        assert!(!any.matches("lvt:user:alice"));
        let two = sub("*/*").unwrap().pattern().clone();
        assert!(!two.matches("lvt:user:a/b"));
    }

    #[test]
    fn publish_rules() {
        assert!(validate_publish("room/1").is_ok());
        assert!(validate_publish("lvt:session:any").is_ok());
        assert_eq!(
            validate_publish("room/*"),
            Err(TopicError::Pattern("room/*".into()))
        );
        assert!(validate_publish("room//1").is_err());
        assert!(validate_publish("lvt:").is_err());
        assert_eq!(validate_publish(""), Err(TopicError::Empty));
    }
}
