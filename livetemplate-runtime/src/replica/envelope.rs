//! What replicas send each other: channel names and the JSON envelope.
//!
//! ```json
//! {"v":1,"instance":"5f0c…","seq":7,"type":"topic_action","topic":"room/1","action":"refresh","data":{},"origin":"peer"}
//! {"v":1,"instance":"5f0c…","seq":8,"type":"group_action","scope":"…","group":"…","action":"tick","data":{"n":3}}
//! {"v":1,"instance":"5f0c…","seq":9,"type":"group_sync","scope":"…","group":"…","state":{…}}
//! ```
//!
//! `instance` is the sending replica (random, 16 hex digits), `seq` counts its messages
//! from 1. `scope` names the page (handler) a push or sync is for, `origin` whether a
//! topic action came from a user's action (`peer`) or from server code (`server`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Incoming, Interest};
use crate::context::Origin;
use crate::pubsub::validate_publish;
use crate::store::glob_escape;

/// Envelope format version.
pub const VERSION: u32 = 1;
/// Longest accepted action name in a received envelope, in bytes.
const MAX_ACTION_LEN: usize = 256;

/// Channel names under one prefix (`livetemplate:` by default).
#[derive(Clone, Debug)]
pub struct Channels {
    topic: String,
    group: String,
    /// The topic prefix with Redis glob characters escaped, for `PSUBSCRIBE`.
    topic_glob: String,
}

/// What a channel name stands for.
#[derive(Debug, PartialEq, Eq)]
pub enum ChannelKind<'a> {
    /// `<prefix>topic:<topic>`.
    Topic(&'a str),
    /// `<prefix>group:<group>`.
    Group(&'a str),
}

impl Channels {
    /// Channels named `<prefix>topic:…` and `<prefix>group:…`.
    pub fn new(prefix: &str) -> Channels {
        let topic = format!("{prefix}topic:");
        let topic_glob = glob_escape(&topic);
        Channels {
            topic,
            group: format!("{prefix}group:"),
            topic_glob,
        }
    }

    /// The channel of a concrete topic.
    pub fn topic(&self, topic: &str) -> String {
        format!("{}{topic}", self.topic)
    }

    /// The channel of a session group.
    pub fn group(&self, group: &str) -> String {
        format!("{}{group}", self.group)
    }

    /// The `PSUBSCRIBE` pattern of a topic pattern (`room/*`): its `*` segments become
    /// Redis globs (developer topics hold no other glob character).
    pub fn pattern(&self, pattern: &str) -> String {
        format!("{}{pattern}", self.topic_glob)
    }

    /// The channel (or pattern) an interest is served by, and whether it is a pattern.
    pub(crate) fn of(&self, interest: &Interest) -> (String, bool) {
        match interest {
            Interest::Topic(t) => (self.topic(t), false),
            Interest::Pattern(p) => (self.pattern(p), true),
            Interest::Group(g) => (self.group(g), false),
        }
    }

    /// What a received channel name stands for (`None`: not one of ours).
    pub fn kind<'a>(&self, channel: &'a str) -> Option<ChannelKind<'a>> {
        if let Some(t) = channel.strip_prefix(&self.topic) {
            Some(ChannelKind::Topic(t))
        } else {
            channel.strip_prefix(&self.group).map(ChannelKind::Group)
        }
    }
}

/// Origin of a topic action, on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireOrigin {
    Peer,
    Server,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Body {
    TopicAction {
        topic: String,
        action: String,
        #[serde(default)]
        data: Map<String, Value>,
        origin: WireOrigin,
    },
    GroupAction {
        scope: String,
        group: String,
        action: String,
        #[serde(default)]
        data: Map<String, Value>,
    },
    GroupSync {
        scope: String,
        group: String,
        state: Value,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    v: u32,
    instance: String,
    seq: u64,
    #[serde(flatten)]
    body: Body,
}

/// A message to send, before it is numbered.
#[derive(Debug)]
pub(crate) enum Outgoing<'a> {
    Topic {
        topic: &'a str,
        action: &'a str,
        data: &'a Map<String, Value>,
        origin: Origin,
    },
    GroupAction {
        scope: &'a str,
        group: &'a str,
        action: &'a str,
        data: &'a Map<String, Value>,
    },
    GroupSync {
        scope: &'a str,
        group: &'a str,
        state: &'a Value,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BodyRef<'a> {
    TopicAction {
        topic: &'a str,
        action: &'a str,
        data: &'a Map<String, Value>,
        origin: WireOrigin,
    },
    GroupAction {
        scope: &'a str,
        group: &'a str,
        action: &'a str,
        data: &'a Map<String, Value>,
    },
    GroupSync {
        scope: &'a str,
        group: &'a str,
        state: &'a Value,
    },
}

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    v: u32,
    instance: &'a str,
    seq: u64,
    #[serde(flatten)]
    body: BodyRef<'a>,
}

impl Outgoing<'_> {
    /// The channel this message goes to.
    pub(crate) fn channel(&self, channels: &Channels) -> String {
        match self {
            Outgoing::Topic { topic, .. } => channels.topic(topic),
            Outgoing::GroupAction { group, .. } | Outgoing::GroupSync { group, .. } => {
                channels.group(group)
            }
        }
    }

    /// The session group, for messages on a group channel.
    pub(crate) fn group(&self) -> Option<&str> {
        match self {
            Outgoing::Topic { .. } => None,
            Outgoing::GroupAction { group, .. } | Outgoing::GroupSync { group, .. } => Some(group),
        }
    }

    /// The envelope as JSON bytes.
    pub(crate) fn encode(&self, instance: &str, seq: u64) -> Result<Vec<u8>, serde_json::Error> {
        let body = match *self {
            Outgoing::Topic {
                topic,
                action,
                data,
                origin,
            } => BodyRef::TopicAction {
                topic,
                action,
                data,
                origin: match origin {
                    Origin::Server => WireOrigin::Server,
                    _ => WireOrigin::Peer,
                },
            },
            Outgoing::GroupAction {
                scope,
                group,
                action,
                data,
            } => BodyRef::GroupAction {
                scope,
                group,
                action,
                data,
            },
            Outgoing::GroupSync {
                scope,
                group,
                state,
            } => BodyRef::GroupSync {
                scope,
                group,
                state,
            },
        };
        serde_json::to_vec(&EnvelopeRef {
            v: VERSION,
            instance,
            seq,
            body,
        })
    }
}

/// A received envelope that passed every check.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) instance: String,
    pub(crate) seq: u64,
    pub(crate) message: Incoming,
}

/// Why a received message was dropped.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The channel is not one of ours.
    #[error("message on a foreign channel")]
    ForeignChannel,
    /// Not a JSON envelope of a known type.
    #[error("not an envelope: {0}")]
    Json(String),
    /// An envelope of another format version.
    #[error("envelope version {0} is not supported (expected {VERSION})")]
    Version(u32),
    /// The envelope's topic or group is not the one of the channel it came on.
    #[error("envelope for `{envelope}` received on the channel of `{channel}`")]
    WrongChannel {
        /// What the channel names.
        channel: String,
        /// What the envelope names.
        envelope: String,
    },
    /// An invalid field (topic, action name, instance).
    #[error("invalid envelope: {0}")]
    Invalid(String),
}

/// Parse and check a message received on `channel`.
pub(crate) fn decode(
    channels: &Channels,
    channel: &str,
    payload: &[u8],
) -> Result<Decoded, DecodeError> {
    let kind = channels.kind(channel).ok_or(DecodeError::ForeignChannel)?;
    let env: Envelope =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Json(e.to_string()))?;
    if env.v != VERSION {
        return Err(DecodeError::Version(env.v));
    }
    if env.instance.is_empty() || env.instance.len() > 64 {
        return Err(DecodeError::Invalid("instance id".into()));
    }
    let check_action = |a: &str| {
        if a.is_empty() || a.len() > MAX_ACTION_LEN {
            Err(DecodeError::Invalid(format!(
                "action name of {} bytes",
                a.len()
            )))
        } else {
            Ok(())
        }
    };
    let same = |expected: &str, got: &str| {
        if expected == got {
            Ok(())
        } else {
            Err(DecodeError::WrongChannel {
                channel: expected.to_string(),
                envelope: got.to_string(),
            })
        }
    };
    let message = match (kind, env.body) {
        (
            ChannelKind::Topic(t),
            Body::TopicAction {
                topic,
                action,
                data,
                origin,
            },
        ) => {
            same(t, &topic)?;
            validate_publish(&topic).map_err(|e| DecodeError::Invalid(e.to_string()))?;
            check_action(&action)?;
            Incoming::Topic {
                topic,
                action,
                data,
                origin: match origin {
                    WireOrigin::Peer => Origin::Peer,
                    WireOrigin::Server => Origin::Server,
                },
            }
        }
        (
            ChannelKind::Group(g),
            Body::GroupAction {
                scope,
                group,
                action,
                data,
            },
        ) => {
            same(g, &group)?;
            check_action(&action)?;
            Incoming::GroupAction {
                scope,
                group,
                action,
                data,
            }
        }
        (
            ChannelKind::Group(g),
            Body::GroupSync {
                scope,
                group,
                state,
            },
        ) => {
            same(g, &group)?;
            Incoming::GroupSync {
                scope,
                group,
                state,
            }
        }
        (ChannelKind::Topic(_), _) => {
            return Err(DecodeError::Invalid(
                "a group message on a topic channel".into(),
            ))
        }
        (ChannelKind::Group(_), _) => {
            return Err(DecodeError::Invalid(
                "a topic message on a group channel".into(),
            ))
        }
    };
    Ok(Decoded {
        instance: env.instance,
        seq: env.seq,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn channels() -> Channels {
        Channels::new("livetemplate:")
    }

    #[test]
    fn channel_names() {
        let c = channels();
        assert_eq!(c.topic("room/1"), "livetemplate:topic:room/1");
        assert_eq!(c.pattern("room/*"), "livetemplate:topic:room/*");
        assert_eq!(c.group("g1"), "livetemplate:group:g1");
        assert_eq!(
            c.kind("livetemplate:topic:lvt:session:abc"),
            Some(ChannelKind::Topic("lvt:session:abc"))
        );
        assert_eq!(
            c.kind("livetemplate:group:g1"),
            Some(ChannelKind::Group("g1"))
        );
        assert_eq!(c.kind("other:topic:x"), None);
        // Glob characters of the prefix are escaped in patterns only.
        let odd = Channels::new("app[1]*:");
        assert_eq!(odd.topic("a"), "app[1]*:topic:a");
        assert_eq!(odd.pattern("a/*"), r"app\[1\]\*:topic:a/*");
    }

    #[test]
    fn round_trip_of_every_kind() {
        let c = channels();
        let data = json!({"n": 3}).as_object().cloned().unwrap_or_default();
        let state = json!({"count": 2});
        let cases = [
            Outgoing::Topic {
                topic: "room/1",
                action: "refresh",
                data: &data,
                origin: Origin::Server,
            },
            Outgoing::GroupAction {
                scope: "page",
                group: "g1",
                action: "tick",
                data: &data,
            },
            Outgoing::GroupSync {
                scope: "page",
                group: "g1",
                state: &state,
            },
        ];
        for (i, out) in cases.iter().enumerate() {
            let seq = i as u64 + 1;
            let bytes = out.encode("00ff", seq).expect("encode");
            let got = decode(&c, &out.channel(&c), &bytes).expect("decode");
            assert_eq!((got.instance.as_str(), got.seq), ("00ff", seq));
            match (out, got.message) {
                (
                    Outgoing::Topic { .. },
                    Incoming::Topic {
                        topic,
                        action,
                        data: d,
                        origin,
                    },
                ) => {
                    assert_eq!((topic.as_str(), action.as_str()), ("room/1", "refresh"));
                    assert_eq!((d, origin), (data.clone(), Origin::Server));
                }
                (
                    Outgoing::GroupAction { .. },
                    Incoming::GroupAction {
                        scope,
                        group,
                        action,
                        data: d,
                    },
                ) => {
                    assert_eq!((scope.as_str(), group.as_str()), ("page", "g1"));
                    assert_eq!((action.as_str(), d), ("tick", data.clone()));
                }
                (Outgoing::GroupSync { .. }, Incoming::GroupSync { state: s, .. }) => {
                    assert_eq!(s, state)
                }
                (out, got) => panic!("{out:?} decoded as {got:?}"),
            }
        }
    }

    #[test]
    fn bad_messages_are_refused_with_a_reason() {
        let c = channels();
        let ok = r#"{"v":1,"instance":"ab","seq":1,"type":"topic_action","topic":"room/1","action":"refresh","data":{},"origin":"peer"}"#;
        assert!(decode(&c, "livetemplate:topic:room/1", ok.as_bytes()).is_ok());
        assert_eq!(
            decode(&c, "elsewhere:room/1", ok.as_bytes()).unwrap_err(),
            DecodeError::ForeignChannel
        );
        assert!(matches!(
            decode(&c, "livetemplate:topic:room/2", ok.as_bytes()),
            Err(DecodeError::WrongChannel { .. })
        ));
        assert!(matches!(
            decode(&c, "livetemplate:topic:room/1", b"not json"),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode(
                &c,
                "livetemplate:topic:room/1",
                br#"{"v":1,"instance":"ab","seq":1,"type":"explode"}"#
            ),
            Err(DecodeError::Json(_))
        ));
        let v2 = ok.replace(r#""v":1"#, r#""v":2"#);
        assert_eq!(
            decode(&c, "livetemplate:topic:room/1", v2.as_bytes()).unwrap_err(),
            DecodeError::Version(2)
        );
        let no_action = ok.replace(r#""action":"refresh""#, r#""action":"""#);
        assert!(matches!(
            decode(&c, "livetemplate:topic:room/1", no_action.as_bytes()),
            Err(DecodeError::Invalid(_))
        ));
        let pattern = ok.replace("room/1", "room/*");
        assert!(matches!(
            decode(&c, "livetemplate:topic:room/*", pattern.as_bytes()),
            Err(DecodeError::Invalid(_))
        ));
        let group_on_topic = r#"{"v":1,"instance":"ab","seq":1,"type":"group_action","scope":"p","group":"g","action":"a"}"#;
        assert!(matches!(
            decode(&c, "livetemplate:topic:g", group_on_topic.as_bytes()),
            Err(DecodeError::Invalid(_))
        ));
        let data_not_object = ok.replace(r#""data":{}"#, r#""data":[1]"#);
        assert!(matches!(
            decode(&c, "livetemplate:topic:room/1", data_not_object.as_bytes()),
            Err(DecodeError::Json(_))
        ));
    }
}
