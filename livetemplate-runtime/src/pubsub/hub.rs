//! The subscription index: which live connection listens to which topics.
//!
//! [`Hub`] maps concrete topics and wildcard patterns to subscribers and answers "who
//! receives a publish to `room/1`?" — each subscriber at most once, however many of its
//! subscriptions match. It is generic over the subscriber handle so it knows nothing of
//! sockets; delivery happens outside its lock.

use std::collections::HashMap;
use std::sync::Mutex;

use super::topic::TopicPattern;

/// Identifies one live connection.
pub type ConnId = u64;

#[derive(Debug)]
struct Entry<S> {
    pattern: TopicPattern,
    subscribers: HashMap<ConnId, S>,
}

#[derive(Debug)]
struct Inner<S> {
    /// Concrete topics, matched by string equality.
    exact: HashMap<Box<str>, Entry<S>>,
    /// Wildcard patterns, by their raw text.
    patterns: HashMap<Box<str>, Entry<S>>,
    /// Each connection's subscriptions, for cleanup.
    by_conn: HashMap<ConnId, Vec<TopicPattern>>,
}

/// Subscriptions of live connections, by topic.
#[derive(Debug)]
pub struct Hub<S> {
    inner: Mutex<Inner<S>>,
}

impl<S> Default for Hub<S> {
    fn default() -> Self {
        Hub {
            inner: Mutex::new(Inner {
                exact: HashMap::new(),
                patterns: HashMap::new(),
                by_conn: HashMap::new(),
            }),
        }
    }
}

/// What changed in the set of topics the hub listens to (for cross-replica fan-out,
/// which subscribes upstream only to what local connections need).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicChange {
    /// The first local subscriber of this topic or pattern arrived.
    Added(TopicPattern),
    /// The last local subscriber of this topic or pattern left.
    Removed(TopicPattern),
}

impl<S: Clone> Hub<S> {
    /// An empty hub.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<S>> {
        // A panic while holding the lock cannot leave the maps inconsistent (every
        // mutation is a single insert/remove), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribe `conn` to `pattern` (idempotent). Returns `Some(Added)` when this is the
    /// first local subscriber of that topic or pattern.
    pub fn subscribe(&self, conn: ConnId, pattern: TopicPattern, handle: S) -> Option<TopicChange> {
        let mut inner = self.lock();
        let map = if pattern.is_pattern() {
            &mut inner.patterns
        } else {
            &mut inner.exact
        };
        let entry = map.entry(pattern.as_str().into()).or_insert_with(|| Entry {
            pattern: pattern.clone(),
            subscribers: HashMap::new(),
        });
        let first = entry.subscribers.is_empty();
        if entry.subscribers.insert(conn, handle).is_some() {
            return None;
        }
        inner.by_conn.entry(conn).or_default().push(pattern.clone());
        first.then_some(TopicChange::Added(pattern))
    }

    /// Unsubscribe `conn` from exactly `pattern` (idempotent). Returns `Some(Removed)`
    /// when that was the last local subscriber.
    pub fn unsubscribe(&self, conn: ConnId, pattern: &str) -> Option<TopicChange> {
        let mut inner = self.lock();
        let removed = Self::remove_one(&mut inner, conn, pattern);
        if let Some(list) = inner.by_conn.get_mut(&conn) {
            list.retain(|p| p.as_str() != pattern);
            if list.is_empty() {
                inner.by_conn.remove(&conn);
            }
        }
        removed
    }

    fn remove_one(inner: &mut Inner<S>, conn: ConnId, pattern: &str) -> Option<TopicChange> {
        for map in [&mut inner.exact, &mut inner.patterns] {
            if let Some(entry) = map.get_mut(pattern) {
                if entry.subscribers.remove(&conn).is_some() && entry.subscribers.is_empty() {
                    let entry = map.remove(pattern)?;
                    return Some(TopicChange::Removed(entry.pattern));
                }
                return None;
            }
        }
        None
    }

    /// Drop every subscription of `conn` (on disconnect). Returns the topics and
    /// patterns that no longer have any local subscriber.
    pub fn remove_connection(&self, conn: ConnId) -> Vec<TopicChange> {
        let mut inner = self.lock();
        let Some(list) = inner.by_conn.remove(&conn) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|p| Self::remove_one(&mut inner, conn, p.as_str()))
            .collect()
    }

    /// The subscribers a publish to the concrete `topic` reaches, each once, except
    /// `exclude`.
    pub fn subscribers(&self, topic: &str, exclude: Option<ConnId>) -> Vec<(ConnId, S)> {
        let inner = self.lock();
        let mut out: Vec<(ConnId, S)> = Vec::new();
        if let Some(entry) = inner.exact.get(topic) {
            out.extend(entry.subscribers.iter().map(|(c, s)| (*c, s.clone())));
        }
        if !inner.patterns.is_empty() {
            // A connection subscribed to `room/1` and `room/*` receives once.
            let mut seen: std::collections::HashSet<ConnId> = out.iter().map(|(c, _)| *c).collect();
            for entry in inner.patterns.values() {
                if entry.pattern.matches(topic) {
                    for (c, s) in &entry.subscribers {
                        if seen.insert(*c) {
                            out.push((*c, s.clone()));
                        }
                    }
                }
            }
        }
        if let Some(x) = exclude {
            out.retain(|(c, _)| *c != x);
        }
        out
    }

    /// The topics and patterns `conn` is subscribed to.
    pub fn topics_of(&self, conn: ConnId) -> Vec<String> {
        self.lock()
            .by_conn
            .get(&conn)
            .map(|l| l.iter().map(|p| p.as_str().to_string()).collect())
            .unwrap_or_default()
    }

    /// Every topic and pattern with at least one local subscriber.
    pub fn active_topics(&self) -> Vec<TopicPattern> {
        let inner = self.lock();
        inner
            .exact
            .values()
            .chain(inner.patterns.values())
            .map(|e| e.pattern.clone())
            .collect()
    }

    /// Whether the concrete topic or pattern `topic` (as subscribed) has a local
    /// subscriber.
    pub fn is_active(&self, topic: &str) -> bool {
        let inner = self.lock();
        inner.exact.contains_key(topic) || inner.patterns.contains_key(topic)
    }

    /// Number of connections with at least one subscription.
    pub fn connection_count(&self) -> usize {
        self.lock().by_conn.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::topic::{parse_subscription, Subscription};
    use super::*;

    fn pat(t: &str) -> TopicPattern {
        match parse_subscription(t, "lvt:session:me").unwrap() {
            Subscription::SelfTopic(p) | Subscription::Developer(p) => p,
        }
    }

    fn ids(v: Vec<(ConnId, &'static str)>) -> Vec<ConnId> {
        let mut v: Vec<_> = v.into_iter().map(|(c, _)| c).collect();
        v.sort();
        v
    }

    #[test]
    fn exact_and_pattern_each_receive_once() {
        let hub = Hub::new();
        assert_eq!(
            hub.subscribe(1, pat("room/1"), "a"),
            Some(TopicChange::Added(pat("room/1")))
        );
        assert_eq!(
            hub.subscribe(1, pat("room/*"), "a"),
            Some(TopicChange::Added(pat("room/*")))
        );
        assert_eq!(hub.subscribe(2, pat("room/*"), "b"), None);
        assert_eq!(
            hub.subscribe(3, pat("room/2"), "c"),
            Some(TopicChange::Added(pat("room/2")))
        );
        assert_eq!(ids(hub.subscribers("room/1", None)), vec![1, 2]);
        assert_eq!(ids(hub.subscribers("room/2", None)), vec![1, 2, 3]);
        assert_eq!(ids(hub.subscribers("room/1", Some(1))), vec![2]);
        assert!(hub.subscribers("room", None).is_empty());
        assert!(hub.subscribers("room/1/x", None).is_empty());
    }

    #[test]
    fn subscribe_is_idempotent_and_refcounted() {
        let hub = Hub::new();
        assert!(hub.subscribe(1, pat("a"), "x").is_some());
        assert!(hub.subscribe(1, pat("a"), "x").is_none());
        assert!(hub.subscribe(2, pat("a"), "y").is_none());
        assert_eq!(hub.topics_of(1), vec!["a".to_string()]);
        assert_eq!(hub.unsubscribe(1, "a"), None);
        assert_eq!(hub.unsubscribe(1, "a"), None);
        assert_eq!(
            hub.unsubscribe(2, "a"),
            Some(TopicChange::Removed(pat("a")))
        );
        assert!(hub.active_topics().is_empty());
        assert_eq!(hub.connection_count(), 0);
    }

    #[test]
    fn remove_connection_reports_released_topics() {
        let hub = Hub::new();
        hub.subscribe(1, pat("a"), "x");
        hub.subscribe(1, pat("b/*"), "x");
        hub.subscribe(2, pat("a"), "y");
        let mut gone = hub.remove_connection(1);
        gone.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(gone, vec![TopicChange::Removed(pat("b/*"))]);
        assert_eq!(ids(hub.subscribers("a", None)), vec![2]);
        assert!(hub.remove_connection(1).is_empty());
    }
}
