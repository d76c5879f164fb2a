//! [`Broker`]: the subscriptions of live connections (one index shared by every page of
//! an app) and the delivery of publishes into their dispatch queues; [`Publisher`]: the
//! out-of-band publish handle for timers, webhooks and other server code.
//!
//! Delivery never blocks: each receiver's bounded dispatch queue either takes the action
//! or drops it, and the broker counts both ([`BrokerMetrics`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::registry::{Dispatch, DispatchError, DispatchSender};
use crate::context::Origin;
use crate::controller::Action;
use crate::pubsub::{validate_publish, ConnId, Hub, TopicError};

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

#[derive(Default)]
struct Inner {
    hub: Hub<DispatchSender>,
    published: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
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

    pub(crate) fn hub(&self) -> &Hub<DispatchSender> {
        &self.inner.hub
    }

    pub(crate) fn count_refused(&self) {
        self.inner.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Queue `action` for every subscriber of `topic` except `exclude`. Returns how many
    /// queues took it.
    pub(crate) fn deliver(
        &self,
        topic: &str,
        action: Action,
        data: &Map<String, Value>,
        origin: Origin,
        exclude: Option<ConnId>,
    ) -> usize {
        let receivers = self.inner.hub.subscribers(topic, exclude);
        self.inner.published.fetch_add(1, Ordering::Relaxed);
        let mut queued = 0;
        for (conn, sender) in receivers {
            let dispatch = Dispatch {
                action: action.name().to_string(),
                data: data.clone(),
                origin,
            };
            match sender.dispatch(dispatch) {
                Ok(()) => queued += 1,
                Err(DispatchError::Full) => {
                    self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                }
                // Closing: its subscriptions go away with it.
                Err(DispatchError::Closed) => {
                    tracing::debug!(connection = conn, "publish to a closing connection")
                }
            }
        }
        self.inner
            .delivered
            .fetch_add(queued as u64, Ordering::Relaxed);
        tracing::debug!(%topic, %action, receivers = queued, "published");
        queued
    }

    /// Forget every subscription of a closed connection.
    pub(crate) fn remove_connection(&self, conn: ConnId) {
        self.inner.hub.remove_connection(conn);
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
