//! Server push: [`Session`], a handle on one session group's live connections that
//! server code (a spawned task, a timer, a job) uses to run actions on them.

use std::sync::Arc;

use serde::Serialize;

use super::broker::{data_map, Broker, PublishError};
use super::registry::{Dispatch, DispatchError, Registry};
use crate::context::Origin;
use crate::controller::Action;

/// Why a server push did not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The session group has no live connection on this page (any more): background
    /// loops pushing to it should stop.
    #[error("no connected sessions: the session group has no live connection")]
    Disconnected,
    /// The data does not serialize to a JSON object (or to nothing, like `()`).
    #[error("cannot push `{action}`: {reason}")]
    InvalidData {
        /// The action being pushed.
        action: &'static str,
        /// What is wrong with the data.
        reason: String,
    },
}

/// The live connections of one session group on one page, for server push.
///
/// Take it with `ctx.session()` while handling a request or connection, keep it
/// (`Send + Sync + Clone`) and call [`Session::trigger`] from any task: the action runs
/// on every live connection of the group on that page — every tab of the browser, by
/// default — exactly as if each had asked for it, and each sends its own diff. No topic
/// subscription is involved.
///
/// Pushes are best effort: a connection that is reconnecting at that moment misses it,
/// and a full dispatch queue drops it. Actions run by a push cannot publish (one hop),
/// but may push again.
///
/// With several replicas (a [`RedisFanout`](crate::replica::RedisFanout) on the app), the
/// push also reaches the group's connections on the other replicas.
///
/// # Examples
///
/// ```no_run
/// # use livetemplate_runtime::{Context, controller::Action, transport::push::PushError};
/// # fn demo(ctx: &Context) {
/// const TICK: Action = Action::unchecked("tick");
/// let session = ctx.session();
/// tokio::spawn(async move {
///     for elapsed in 1.. {
///         tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///         if let Err(PushError::Disconnected) = session.trigger(TICK, serde_json::json!({ "elapsed": elapsed })) {
///             break; // every tab is gone
///         }
///     }
/// });
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    registry: Arc<Registry>,
    group_id: Arc<str>,
    /// The app's broker and this page's scope, for the other replicas.
    remote: Option<(Broker, Arc<str>)>,
}

impl Session {
    pub(crate) fn new(
        registry: Arc<Registry>,
        group_id: &str,
        remote: Option<(Broker, Arc<str>)>,
    ) -> Session {
        Session {
            registry,
            group_id: group_id.into(),
            remote,
        }
    }

    /// The broker, when it is linked to other replicas.
    fn replicas(&self) -> Option<(&Broker, &str)> {
        let (broker, scope) = self.remote.as_ref()?;
        broker.replicas().map(|_| (broker, &**scope))
    }

    /// The session group this handle pushes to.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// Whether the group has at least one live connection on this page: here, or (with
    /// several replicas) on a replica the last push to the group reached.
    pub fn is_connected(&self) -> bool {
        self.registry.is_group_connected(&self.group_id)
            || self
                .replicas()
                .is_some_and(|(b, _)| b.reach(&self.group_id).is_some_and(|n| n > 0))
    }

    /// Run `action` with `data` (a serializable struct or map, or `()`) on every live
    /// connection of the group. Returns how many connections of this replica it was
    /// queued for (a full queue drops it for that connection, so this may be less than
    /// the number of tabs, even 0).
    ///
    /// With several replicas the push is also sent to the others, and the group counts
    /// as connected while the previous push to it reached another replica: a loop
    /// pushing to a group whose last tab closed on another replica learns it one push
    /// later.
    ///
    /// # Errors
    ///
    /// [`PushError::Disconnected`] when the group has no live connection: the signal for
    /// a background loop to stop. [`PushError::InvalidData`] when the data is not a JSON object.
    pub fn trigger(&self, action: Action, data: impl Serialize) -> Result<usize, PushError> {
        let data = data_map(action, data).map_err(|e| match e {
            PublishError::InvalidData { action, reason } => {
                PushError::InvalidData { action, reason }
            }
            other => PushError::InvalidData {
                action: action.name(),
                reason: other.to_string(),
            },
        })?;
        let connections = self.registry.connections_of_group(&self.group_id);
        let data = &data;
        let mut queued = 0;
        let mut open = 0;
        for conn in connections {
            let dispatch = Dispatch {
                action: action.name().to_string(),
                data: data.clone(),
                origin: Origin::Server,
            };
            match conn.sender.dispatch(dispatch) {
                Ok(()) => {
                    queued += 1;
                    open += 1;
                }
                Err(DispatchError::Full) => open += 1,
                Err(DispatchError::Closed) => {}
            }
        }
        if let Some((broker, scope)) = self.replicas() {
            broker.push_remote(scope, &self.group_id, action.name(), data);
            if open == 0 {
                // What the previous push learnt. `None` (nothing sent yet, or the last
                // send failed): the group may be connected elsewhere, keep going.
                return match broker.reach(&self.group_id) {
                    Some(0) => Err(PushError::Disconnected),
                    _ => Ok(0),
                };
            }
        }
        if open == 0 {
            return Err(PushError::Disconnected);
        }
        tracing::debug!(group = %self.group_id, %action, connections = queued, "pushed");
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::registry::{ConnectionHandle, Delivery};

    #[test]
    fn trigger_reaches_the_group_only_and_reports_disconnection() {
        let reg = Arc::new(Registry::new());
        let (a, mut ra) = reg.dispatch_queue(2);
        let (b, mut rb) = reg.dispatch_queue(2);
        for (id, group, sender) in [(1, "g", a), (2, "other", b)] {
            reg.register(ConnectionHandle {
                id,
                group_id: group.into(),
                user_id: None,
                sender,
            });
        }
        let s = Session::new(reg.clone(), "g", None);
        assert!(s.is_connected());
        let tick = Action::unchecked("tick");
        assert_eq!(s.trigger(tick, serde_json::json!({"elapsed": 3})), Ok(1));
        match ra.try_recv() {
            Ok(Delivery::Run(d)) => {
                assert_eq!((d.action.as_str(), d.origin), ("tick", Origin::Server));
                assert_eq!(d.data.get("elapsed"), Some(&serde_json::json!(3)));
            }
            other => panic!("expected a dispatch, got {other:?}"),
        }
        assert!(rb.try_recv().is_err());
        assert!(matches!(
            s.trigger(tick, "text"),
            Err(PushError::InvalidData { action: "tick", .. })
        ));
        reg.unregister("g", 1);
        assert!(!s.is_connected());
        assert_eq!(s.trigger(tick, ()), Err(PushError::Disconnected));
    }
}
