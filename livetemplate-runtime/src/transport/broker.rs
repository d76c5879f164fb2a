//! [`Broker`]: the subscriptions of live connections (one index shared by every page of
//! an app) and the delivery of publishes into their dispatch queues; [`Publisher`]: the
//! out-of-band publish handle for timers, webhooks and other server code.
//!
//! Delivery never blocks: each receiver's bounded dispatch queue either takes the action
//! or drops it, and the broker counts both ([`BrokerMetrics`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use serde::Serialize;
use serde_json::{Map, Value};

use super::registry::{Delivery, Dispatch, DispatchError, DispatchSender, Registry, Synced};
use crate::context::Origin;
use crate::controller::Action;
use crate::pubsub::{validate_publish, ConnId, Hub, TopicChange, TopicError, TopicPattern};
use crate::replica::envelope::Outgoing;
use crate::replica::{FanoutMetrics, Incoming, Interest, Local, RedisFanout};

/// Most publishes one action (or hook) may queue; the next one is an error.
pub const MAX_PUBLISHES_PER_ACTION: usize = 100;

/// Why a publish was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The topic is empty, malformed or a pattern (patterns are for subscribing).
    #[error("cannot publish: {0}")]
    Topic(#[from] TopicError),
    /// The data does not serialize to a JSON object (or to nothing, like `()`).
    #[error("cannot publish `{action}`: {reason}")]
    InvalidData {
        /// The action being published.
        action: &'static str,
        /// What is wrong with the data.
        reason: String,
    },
    /// A publish (or `sync`) inside an action that was itself delivered by a publish or
    /// a server push: deliveries go one hop only, so publishes cannot ping-pong.
    #[error(
        "{what} refused: this action was delivered by a publish or a server push, and such \
         actions may not publish (one hop only); change the state directly, or use \
         `Session::trigger` for server-driven chains"
    )]
    OneHop {
        /// What was attempted (`publish of \`refresh\` to \`room/1\``, `ctx.sync()`).
        what: String,
    },
    /// More than [`MAX_PUBLISHES_PER_ACTION`] publishes in one action.
    #[error("more than {MAX_PUBLISHES_PER_ACTION} publishes in one action")]
    TooMany,
}

/// Publish data as the receiver's `ctx.data()`: a JSON object, or empty for `()`/`None`.
pub(crate) fn data_map(
    action: Action,
    data: impl Serialize,
) -> Result<Map<String, Value>, PublishError> {
    let reason = match serde_json::to_value(data) {
        Ok(Value::Object(m)) => return Ok(m),
        Ok(Value::Null) => return Ok(Map::new()),
        Ok(other) => format!(
            "the data must serialize to a JSON object (a struct or map) or to nothing (`()`), not `{other}`"
        ),
        Err(e) => format!("the data failed to serialize: {e}"),
    };
    Err(PublishError::InvalidData {
        action: action.name(),
        reason,
    })
}

/// Counters of a [`Broker`], since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokerMetrics {
    /// Publishes delivered (queued by successful actions, or out of band), whatever the
    /// number of receivers.
    pub published: u64,
    /// Dispatches queued for receivers (one per receiving connection per publish).
    pub delivered: u64,
    /// Dispatches dropped because a receiver's dispatch queue was full.
    pub dropped: u64,
    /// Publishes refused when called (by `ctx.publish`, `ctx.sync`,
    /// `ctx.broadcast_action` or a [`Publisher`]): one-hop violations, bad topics, bad
    /// data, over the per-action limit.
    pub refused: u64,
}

/// Why [`Broker::fanout`] refused a fan-out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FanoutError {
    /// The broker is already linked to replicas.
    #[error("this broker already has a fan-out")]
    BrokerLinked,
    /// The fan-out already serves another broker (one fan-out per broker: create one
    /// per app).
    #[error("this fan-out already serves another broker")]
    FanoutInUse,
}

/// The pages whose connections this broker serves, for pushes and syncs from other
/// replicas.
#[derive(Default)]
struct Pages {
    /// Registries of live pages by scope (the name a push or sync gives its page).
    scopes: HashMap<Arc<str>, Vec<Weak<Registry>>>,
    /// Live connections per session group, over every page.
    groups: HashMap<String, usize>,
}

#[derive(Default)]
struct Inner {
    hub: Hub<DispatchSender>,
    published: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    fanout: OnceLock<RedisFanout>,
    pages: Mutex<Pages>,
}

impl Inner {
    fn pages(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `action` for every local subscriber of `topic` except `exclude`. Returns
    /// how many queues took it.
    fn deliver_local(
        &self,
        topic: &str,
        action: &str,
        data: &Map<String, Value>,
        origin: Origin,
        exclude: Option<ConnId>,
    ) -> usize {
        let receivers = self.hub.subscribers(topic, exclude);
        let mut queued = 0;
        for (conn, sender) in receivers {
            let dispatch = Dispatch {
                action: action.to_string(),
                data: data.clone(),
                origin,
            };
            if self.count(conn, sender.dispatch(dispatch)) {
                queued += 1;
            }
        }
        tracing::debug!(%topic, %action, receivers = queued, "published");
        queued
    }

    /// Count one delivery attempt; whether it was queued.
    fn count(&self, conn: ConnId, result: Result<(), DispatchError>) -> bool {
        match result {
            Ok(()) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(DispatchError::Full) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            // Closing: its subscriptions go away with it.
            Err(DispatchError::Closed) => {
                tracing::debug!(connection = conn, "delivery to a closing connection");
                false
            }
        }
    }

    /// The live registries of the pages named `scope`.
    fn registries(&self, scope: &str) -> Vec<Arc<Registry>> {
        self.pages()
            .scopes
            .get(scope)
            .map(|l| l.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }

    /// Queue `delivery` for every local connection of `group` on the pages `scope`.
    fn deliver_group(&self, scope: &str, group: &str, delivery: impl Fn() -> Delivery) {
        for registry in self.registries(scope) {
            for conn in registry.connections_of_group(group) {
                self.count(conn.id, conn.sender.deliver(delivery()));
            }
        }
    }
}

fn interest(pattern: &TopicPattern) -> Interest {
    if pattern.is_pattern() {
        Interest::Pattern(pattern.as_str().to_string())
    } else {
        Interest::Topic(pattern.as_str().to_string())
    }
}

impl Local for Inner {
    fn interests(&self) -> Vec<Interest> {
        let mut all: Vec<Interest> = self.hub.active_topics().iter().map(interest).collect();
        all.extend(self.pages().groups.keys().cloned().map(Interest::Group));
        all
    }

    fn wants(&self, i: &Interest) -> bool {
        match i {
            Interest::Topic(t) | Interest::Pattern(t) => self.hub.is_active(t),
            Interest::Group(g) => self.pages().groups.contains_key(g),
        }
    }

    fn deliver_remote(&self, message: Incoming) {
        match message {
            Incoming::Topic {
                topic,
                action,
                data,
                origin,
            } => {
                self.deliver_local(&topic, &action, &data, origin, None);
            }
            Incoming::GroupAction {
                scope,
                group,
                action,
                data,
            } => self.deliver_group(&scope, &group, || {
                Delivery::Run(Box::new(Dispatch {
                    action: action.clone(),
                    data: data.clone(),
                    origin: Origin::Server,
                }))
            }),
            Incoming::GroupSync {
                scope,
                group,
                state,
            } => {
                let state = Synced::Json(Arc::new(state));
                self.deliver_group(&scope, &group, || Delivery::Replace(state.clone()));
            }
        }
    }
}

/// The subscriptions of live connections and the delivery of publishes.
///
/// Cheap to clone (one `Arc`). Every [`LiveHandler`](super::LiveHandler) has one: its
/// own by default, the [`App`](super::App)'s when added to an app (unless set with
/// [`LiveHandler::broker`](super::LiveHandler::broker)), so a publish from one page
/// reaches the subscribers of every page of the app. Each receiver runs the action by
/// name against its own controller.
#[derive(Clone, Default)]
pub struct Broker {
    inner: Arc<Inner>,
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("connections", &self.inner.hub.connection_count())
            .field("metrics", &self.metrics())
            .finish()
    }
}

impl Broker {
    /// An empty broker.
    pub fn new() -> Broker {
        Broker::default()
    }

    /// A handle that publishes out of band (see [`Publisher`]).
    pub fn publisher(&self) -> Publisher {
        Publisher {
            broker: self.clone(),
        }
    }

    /// The counters so far.
    pub fn metrics(&self) -> BrokerMetrics {
        let i = &self.inner;
        BrokerMetrics {
            published: i.published.load(Ordering::Relaxed),
            delivered: i.delivered.load(Ordering::Relaxed),
            dropped: i.dropped.load(Ordering::Relaxed),
            refused: i.refused.load(Ordering::Relaxed),
        }
    }

    /// How many live connections a publish to the concrete `topic` would reach now
    /// (exact and pattern subscriptions, each connection once).
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.inner.hub.subscribers(topic, None).len()
    }

    /// Whether the two handles share one broker.
    pub fn same_as(&self, other: &Broker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Link this broker to the other replicas of the app through `fanout`: from now on
    /// every publish, server push and `ctx.sync()` through it also reaches the
    /// connections of the other replicas (see [`replica`](crate::replica)). Link before
    /// serving; the link lasts as long as the broker.
    ///
    /// # Errors
    ///
    /// [`FanoutError`] when the broker already has a fan-out, or the fan-out serves
    /// another broker.
    pub fn fanout(&self, fanout: RedisFanout) -> Result<(), FanoutError> {
        if self.inner.fanout.get().is_some() {
            return Err(FanoutError::BrokerLinked);
        }
        let inner: Arc<dyn Local> = self.inner.clone();
        if !fanout.attach(Arc::downgrade(&inner)) {
            return Err(FanoutError::FanoutInUse);
        }
        self.inner
            .fanout
            .set(fanout)
            .map_err(|_| FanoutError::BrokerLinked)
    }

    /// The fan-out to other replicas, if linked.
    pub fn replicas(&self) -> Option<&RedisFanout> {
        self.inner.fanout.get()
    }

    /// The fan-out's counters, if linked to other replicas.
    pub fn fanout_metrics(&self) -> Option<FanoutMetrics> {
        self.replicas().map(RedisFanout::metrics)
    }

    fn changed(&self, change: Option<TopicChange>) {
        if let (Some(change), Some(f)) = (change, self.replicas()) {
            let (TopicChange::Added(p) | TopicChange::Removed(p)) = change;
            f.interest_changed(interest(&p));
        }
    }

    /// Subscribe `conn` to `pattern`.
    pub(crate) fn subscribe(&self, conn: ConnId, pattern: TopicPattern, sender: DispatchSender) {
        let change = self.inner.hub.subscribe(conn, pattern, sender);
        self.changed(change);
    }

    /// Unsubscribe `conn` from exactly `pattern`.
    pub(crate) fn unsubscribe(&self, conn: ConnId, pattern: &str) {
        let change = self.inner.hub.unsubscribe(conn, pattern);
        self.changed(change);
    }

    /// A live connection of `group` on the page `scope` (served by `registry`) opened.
    pub(crate) fn attach(&self, scope: &Arc<str>, registry: &Arc<Registry>, group: &str) {
        let first = {
            let mut pages = self.inner.pages();
            let regs = pages.scopes.entry(scope.clone()).or_default();
            if !regs
                .iter()
                .any(|w| Weak::as_ptr(w) == Arc::as_ptr(registry))
            {
                regs.retain(|w| w.strong_count() > 0);
                regs.push(Arc::downgrade(registry));
            }
            let n = pages.groups.entry(group.to_string()).or_insert(0);
            *n += 1;
            *n == 1
        };
        if let (true, Some(f)) = (first, self.replicas()) {
            f.interest_changed(Interest::Group(group.to_string()));
        }
    }

    /// A live connection of `group` closed.
    pub(crate) fn detach(&self, group: &str) {
        let last = {
            let mut pages = self.inner.pages();
            match pages.groups.get_mut(group) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    pages.groups.remove(group);
                    true
                }
                None => false,
            }
        };
        if let (true, Some(f)) = (last, self.replicas()) {
            f.interest_changed(Interest::Group(group.to_string()));
        }
    }

    /// Send a server push to the connections of `group` on the pages `scope` of the
    /// other replicas (no-op without a fan-out).
    pub(crate) fn push_remote(
        &self,
        scope: &str,
        group: &str,
        action: &str,
        data: &Map<String, Value>,
    ) {
        if let Some(f) = self.replicas() {
            f.send(Outgoing::GroupAction {
                scope,
                group,
                action,
                data,
            });
        }
    }

    /// Send a `ctx.sync()` state to the tabs of `group` on the pages `scope` of the other
    /// replicas (no-op without a fan-out).
    pub(crate) fn sync_remote(&self, scope: &str, group: &str, state: &Value) {
        if let Some(f) = self.replicas() {
            f.send(Outgoing::GroupSync {
                scope,
                group,
                state,
            });
        }
    }

    /// How many replicas the last push or sync to `group` reached, when linked.
    pub(crate) fn reach(&self, group: &str) -> Option<usize> {
        self.replicas()?.reach(group)
    }

    #[cfg(test)]
    pub(crate) fn hub(&self) -> &Hub<DispatchSender> {
        &self.inner.hub
    }

    pub(crate) fn count_refused(&self) {
        self.inner.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Queue `action` for every subscriber of `topic` except `exclude`, here and (with a
    /// fan-out) on the other replicas. Returns how many local queues took it.
    pub(crate) fn deliver(
        &self,
        topic: &str,
        action: Action,
        data: &Map<String, Value>,
        origin: Origin,
        exclude: Option<ConnId>,
    ) -> usize {
        self.inner.published.fetch_add(1, Ordering::Relaxed);
        let queued = self
            .inner
            .deliver_local(topic, action.name(), data, origin, exclude);
        if let Some(f) = self.replicas() {
            f.send(Outgoing::Topic {
                topic,
                action: action.name(),
                data,
                origin,
            });
        }
        queued
    }

    /// Forget every subscription of a closed connection.
    pub(crate) fn remove_connection(&self, conn: ConnId) {
        for change in self.inner.hub.remove_connection(conn) {
            self.changed(Some(change));
        }
    }
}

/// Publishes from anywhere — a timer, a webhook, a background task — immediately.
///
/// `Clone + Send + Sync`; get one from [`App::publisher`](super::App::publisher),
/// [`LiveHandler::publisher`](super::LiveHandler::publisher) or
/// [`Broker::publisher`]. Unlike `ctx.publish`, nothing is queued and nobody is
/// excluded: every subscriber of the topic receives the action (as an
/// [`Origin::Server`] dispatch, so it cannot publish further).
#[derive(Clone, Debug)]
pub struct Publisher {
    broker: Broker,
}

impl Publisher {
    /// Run `action` with `data` (a serializable struct or map, or `()`) on every live
    /// connection subscribed to `topic` (a concrete topic: no `*`). Returns how many
    /// connections it was queued for; a full queue drops it for that connection (counted
    /// in [`BrokerMetrics::dropped`]).
    ///
    /// # Errors
    ///
    /// [`PublishError::Topic`] for an empty, malformed or pattern topic,
    /// [`PublishError::InvalidData`] for data that is not a JSON object.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use livetemplate_runtime::transport::{Broker, Publisher};
    /// # use livetemplate_runtime::controller::Action;
    /// # async fn demo(publisher: Publisher) {
    /// const REFRESH: Action = Action::unchecked("refresh");
    /// loop {
    ///     tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    ///     let _ = publisher.publish("dashboard", REFRESH, ());
    /// }
    /// # }
    /// ```
    pub fn publish(
        &self,
        topic: &str,
        action: Action,
        data: impl Serialize,
    ) -> Result<usize, PublishError> {
        let checked = validate_publish(topic)
            .map_err(PublishError::from)
            .and_then(|()| data_map(action, data));
        match checked {
            Ok(data) => Ok(self
                .broker
                .deliver(topic, action, &data, Origin::Server, None)),
            Err(e) => {
                self.broker.count_refused();
                Err(e)
            }
        }
    }

    /// The broker this publisher delivers through.
    pub fn broker(&self) -> &Broker {
        &self.broker
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubsub::{parse_subscription, Subscription};
    use crate::transport::registry::{Delivery, Registry};

    const REFRESH: Action = Action::unchecked("refresh");

    fn subscribe(broker: &Broker, conn: ConnId, topic: &str, sender: &DispatchSender) {
        let Ok(Subscription::Developer(p)) = parse_subscription(topic, "lvt:session:x") else {
            panic!("bad test topic {topic}");
        };
        broker.hub().subscribe(conn, p, sender.clone());
    }

    #[test]
    fn publisher_validates_and_counts() {
        let broker = Broker::new();
        let reg = Registry::new();
        let (a, mut ra) = reg.dispatch_queue(4);
        let (b, mut rb) = reg.dispatch_queue(1);
        subscribe(&broker, 1, "room/*", &a);
        subscribe(&broker, 2, "room/1", &b);
        let p = broker.publisher();
        assert_eq!(broker.subscriber_count("room/1"), 2);
        assert_eq!(p.publish("room/1", REFRESH, ()), Ok(2));
        // b's queue (capacity 1) is full now: dropped and counted, never blocking.
        assert_eq!(
            p.publish("room/1", REFRESH, serde_json::json!({"n": 1})),
            Ok(1)
        );
        assert_eq!(
            p.publish("room/*", REFRESH, ()),
            Err(PublishError::Topic(TopicError::Pattern("room/*".into())))
        );
        assert!(matches!(
            p.publish("room/1", REFRESH, 5),
            Err(PublishError::InvalidData { .. })
        ));
        assert_eq!(
            broker.metrics(),
            BrokerMetrics {
                published: 2,
                delivered: 3,
                dropped: 1,
                refused: 2
            }
        );
        let mut got = Vec::new();
        while let Ok(Delivery::Run(d)) = ra.try_recv() {
            assert_eq!(d.origin, Origin::Server);
            got.push(d.data.get("n").cloned());
        }
        assert_eq!(got, vec![None, Some(serde_json::json!(1))]);
        assert!(matches!(rb.try_recv(), Ok(Delivery::Run(_))));
        broker.remove_connection(1);
        assert_eq!(broker.subscriber_count("room/1"), 1);
    }
}
