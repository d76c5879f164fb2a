//! Several replicas of one app: publishes, server pushes and `ctx.sync()` reach the
//! live connections of every replica, through Redis pub/sub.
//!
//! Controllers do not change: build the app with a [`RedisFanout`]
//! ([`App::fanout`](crate::transport::App::fanout), or
//! [`Broker::fanout`](crate::transport::Broker::fanout) for handlers mounted in another
//! router) and every `ctx.publish`, out-of-band [`Publisher`](crate::transport::Publisher)
//! publish, [`Session::trigger`](crate::transport::push::Session::trigger) and
//! `ctx.sync()` is delivered locally at once *and* sent to the other replicas, which
//! deliver it to their own connections.
//!
//! # Channels
//!
//! With the default prefix `livetemplate:`:
//!
//! | Channel | Carries | A replica subscribes while |
//! |---|---|---|
//! | `livetemplate:topic:<topic>` | publishes to `<topic>` (`room/1`, `lvt:session:<group>`, …) | one of its connections subscribes to `<topic>` |
//! | `livetemplate:topic:<pattern>` (`PSUBSCRIBE`) | publishes matching a `*` pattern such as `room/*` | one of its connections subscribes to the pattern |
//! | `livetemplate:group:<group>` | server pushes and `ctx.sync()` of one session group | one of its connections belongs to the group |
//!
//! Subscriptions are reference-counted: a replica subscribes when its first connection
//! needs a channel and unsubscribes when the last one leaves, so an idle replica
//! receives nothing.
//!
//! # Delivery rules
//!
//! - Each message is an [`envelope`] carrying the sending replica's instance id and a
//!   sequence number. A replica ignores its own messages (it delivered them locally
//!   already) and delivers every other message once, even when several of its
//!   subscriptions match (`room/1` and `room/*`): `(instance, seq)` de-duplicates.
//! - Redis' `*` also matches `/`; received topics are matched again with the strict
//!   whole-segment rule, so `room/*` never receives `room/1/x`.
//! - Messages that do not parse, or whose topic or group disagrees with the channel they
//!   came on, are dropped and counted ([`FanoutMetrics::malformed`]).
//!
//! # When Redis is lost
//!
//! Local delivery never depends on Redis. Publishes that cannot be sent are counted
//! ([`FanoutMetrics::lost`]) and logged (a warning when the outage starts, one line with
//! the count when it ends). The subscription connection is re-established with backoff
//! and every channel the replica still needs is subscribed again, without a restart.
//! Nothing is replayed: what was published during the outage is lost, as with any
//! pub/sub.

mod dedup;
pub mod envelope;
mod redis;

pub use self::redis::{FanoutMetrics, RedisFanout, RedisFanoutBuilder};

use serde_json::{Map, Value};

use crate::context::Origin;

/// Something the local connections of a replica need to hear about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Interest {
    /// A concrete topic some connection subscribes to.
    Topic(String),
    /// A `*` pattern some connection subscribes to.
    Pattern(String),
    /// A session group with a live connection here.
    Group(String),
}

/// A message from another replica, for the local connections.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A publish to a concrete topic.
    Topic {
        topic: String,
        action: String,
        data: Map<String, Value>,
        origin: Origin,
    },
    /// A server push to a session group on one page.
    GroupAction {
        scope: String,
        group: String,
        action: String,
        data: Map<String, Value>,
    },
    /// A `ctx.sync()`: the group's tabs on one page adopt this state.
    GroupSync {
        scope: String,
        group: String,
        state: Value,
    },
}

/// The replica-local side a fan-out delivers to and asks about: the broker.
pub(crate) trait Local: Send + Sync + 'static {
    /// Every interest the local connections have now (after a reconnect).
    fn interests(&self) -> Vec<Interest>;
    /// Whether the local connections still have this interest.
    fn wants(&self, interest: &Interest) -> bool;
    /// Deliver a message from another replica.
    fn deliver_remote(&self, message: Incoming);
}
