//! Topics, subscriptions and the subscription policy.
//!
//! - [`topic`]: topic grammar (`lvt:` reserved namespace, developer segments, `*`
//!   patterns) and matching.
//! - [`hub`]: the index of which live connection subscribes to what.
//! - [`acl`]: who may subscribe to developer topics.
//!
//! Delivery (queues, one-hop rule, sender exclusion) belongs to the transport, which owns
//! the connections.

pub mod acl;
pub mod hub;
pub mod topic;

pub use acl::{AclRequest, TopicPolicy};
pub use hub::{ConnId, Hub, TopicChange};
pub use topic::{
    parse_subscription, self_topic, user_topic, validate_publish, Subscription, TopicError,
    TopicPattern,
};
