//! The live connections of one handler, by session group, with the queue through which
//! the server dispatches actions to each of them.
//!
//! Connections register when their WebSocket opens and unregister when it closes.
//! Sending into a connection never blocks: a full dispatch queue drops the action and
//! counts it. This module knows nothing about sockets, state or templates.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::tracker::{Guard, Tracker};

/// An action the server asks one connection to run (a peer publish or a server push).
#[derive(Debug)]
pub struct Dispatch {
    /// The action name (client or internal actions).
    pub action: String,
    /// Its data (what `ctx.data()` returns).
    pub data: Map<String, Value>,
    /// Where it came from (peer or server).
    pub origin: crate::context::Origin,
}

/// What a connection's dispatch queue carries.
pub(crate) enum Delivery {
    /// Run an action (peer publish, server push).
    Run(Box<Dispatch>),
    /// Replace the state with this one (a `ctx.sync()` of another tab of the same
    /// session group on the same handler).
    Replace(Synced),
}

/// The state another tab converged on (`ctx.sync()`).
#[derive(Clone)]
pub(crate) enum Synced {
    /// From a tab on this replica: an `Arc<C::State>` of the handler's controller type.
    Local(Arc<dyn Any + Send + Sync>),
    /// From a tab on another replica: the state serialized as JSON.
    Json(Arc<Value>),
}

impl Delivery {
    fn label(&self) -> &str {
        match self {
            Delivery::Run(d) => &d.action,
            Delivery::Replace(_) => "(sync)",
        }
    }
}

/// Why a dispatch did not reach its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// The connection's dispatch queue was full; the action was dropped (and counted).
    #[error("dispatch queue full: action dropped")]
    Full,
    /// The connection has closed.
    #[error("connection closed")]
    Closed,
}

/// The sending side of one connection's dispatch queue.
#[derive(Clone, Debug)]
pub struct DispatchSender {
    tx: mpsc::Sender<Delivery>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl DispatchSender {
    pub(crate) fn new(tx: mpsc::Sender<Delivery>, dropped: Arc<AtomicU64>) -> DispatchSender {
        DispatchSender { tx, dropped }
    }

    /// Queue an action for the connection without waiting.
    ///
    /// # Errors
    ///
    /// [`DispatchError::Full`] when the queue is full (the action is dropped),
    /// [`DispatchError::Closed`] when the connection is gone.
    pub fn dispatch(&self, dispatch: Dispatch) -> Result<(), DispatchError> {
        self.deliver(Delivery::Run(Box::new(dispatch)))
    }

    /// Queue a delivery without waiting (see [`DispatchSender::dispatch`]).
    pub(crate) fn deliver(&self, delivery: Delivery) -> Result<(), DispatchError> {
        match self.tx.try_send(delivery) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(d)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(action = %d.label(), "dispatch queue full, action dropped");
                Err(DispatchError::Full)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(DispatchError::Closed),
        }
    }
}

/// One live connection as the registry knows it.
#[derive(Clone, Debug)]
pub struct ConnectionHandle {
    /// Unique (per process) connection id.
    pub id: u64,
    /// Its session group.
    pub group_id: String,
    /// Its user, if authenticated.
    pub user_id: Option<String>,
    /// Where to send actions for it.
    pub sender: DispatchSender,
}

/// The connections of one group, by connection id (ids grow: the order is the order of
/// connecting). Removing one is a lookup, not a scan, so 10,000 tabs of one group can
/// come and go cheaply.
type Group = BTreeMap<u64, Arc<ConnectionHandle>>;

/// Live connections by session group.
#[derive(Debug)]
pub struct Registry {
    groups: Mutex<HashMap<String, Group>>,
    dropped: Arc<AtomicU64>,
    /// Set once by [`Registry::close_all`]: connections close, new ones are refused.
    closing: watch::Sender<bool>,
    /// Connection tasks still running (their disconnect hooks included).
    tasks: Tracker,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            groups: Mutex::default(),
            dropped: Arc::default(),
            closing: watch::Sender::new(false),
            tasks: Tracker::default(),
        }
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Ask every live connection to close ("going away", so that clients reconnect,
    /// to another replica if there is one) and refuse new ones. Idempotent.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Whether [`close_all`](Self::close_all) was called.
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Wait until every connection task has ended, its disconnect hook included.
    pub async fn wait_closed(&self) {
        self.tasks.wait_idle().await;
    }

    /// Connection tasks running now (registered or not yet/no longer registered).
    pub fn running_tasks(&self) -> usize {
        self.tasks.count()
    }

    /// Count a connection task until the guard is dropped, unless `max` tasks run
    /// already.
    pub(crate) fn try_track_task(&self, max: usize) -> Option<Guard> {
        self.tasks.try_track(max)
    }

    /// Resolves once [`close_all`](Self::close_all) has been called.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Add a connection.
    pub fn register(&self, handle: ConnectionHandle) {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups
            .entry(handle.group_id.clone())
            .or_default()
            .insert(handle.id, Arc::new(handle));
    }

    /// Remove a connection (no-op if it is not registered).
    pub fn unregister(&self, group_id: &str, connection_id: u64) {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = groups.get_mut(group_id) {
            list.remove(&connection_id);
            if list.is_empty() {
                groups.remove(group_id);
            }
        }
    }

    /// The live connections of a group in the order they connected (a snapshot).
    pub fn connections_of_group(&self, group_id: &str) -> Vec<Arc<ConnectionHandle>> {
        let groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups
            .get(group_id)
            .map(|list| list.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the group has at least one live connection.
    pub fn is_group_connected(&self, group_id: &str) -> bool {
        let groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.get(group_id).is_some_and(|l| !l.is_empty())
    }

    /// Every live connection (a snapshot).
    pub fn all_connections(&self) -> Vec<Arc<ConnectionHandle>> {
        let groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups
            .values()
            .flat_map(BTreeMap::values)
            .cloned()
            .collect()
    }

    /// Number of live connections.
    pub fn len(&self) -> usize {
        let groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.values().map(BTreeMap::len).sum()
    }

    /// Whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many dispatched actions were dropped because a queue was full.
    pub fn dropped_dispatches(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A dispatch queue of `capacity` for a new connection, counted by this registry.
    pub(crate) fn dispatch_queue(
        &self,
        capacity: usize,
    ) -> (DispatchSender, mpsc::Receiver<Delivery>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (DispatchSender::new(tx, self.dropped.clone()), rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Origin;

    fn dispatch(action: &str) -> Dispatch {
        Dispatch {
            action: action.into(),
            data: Map::new(),
            origin: Origin::Server,
        }
    }

    #[test]
    fn register_lookup_unregister() {
        let reg = Registry::new();
        let (a, _ra) = reg.dispatch_queue(1);
        let (b, _rb) = reg.dispatch_queue(1);
        reg.register(ConnectionHandle {
            id: 1,
            group_id: "g".into(),
            user_id: None,
            sender: a,
        });
        reg.register(ConnectionHandle {
            id: 2,
            group_id: "g".into(),
            user_id: None,
            sender: b,
        });
        assert_eq!(
            reg.connections_of_group("g")
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(reg.len(), 2);
        reg.unregister("g", 1);
        assert_eq!(reg.connections_of_group("g").len(), 1);
        reg.unregister("g", 2);
        assert!(reg.is_empty() && reg.connections_of_group("g").is_empty());
    }

    #[test]
    fn full_queue_drops_and_counts_without_blocking() {
        let reg = Registry::new();
        let (tx, mut rx) = reg.dispatch_queue(1);
        assert_eq!(tx.dispatch(dispatch("a")), Ok(()));
        assert_eq!(tx.dispatch(dispatch("b")), Err(DispatchError::Full));
        assert_eq!(reg.dropped_dispatches(), 1);
        match rx.try_recv() {
            Ok(Delivery::Run(d)) => assert_eq!(d.action, "a"),
            other => panic!("expected the first dispatch, got {other:?}"),
        }
        drop(rx);
        assert_eq!(tx.dispatch(dispatch("c")), Err(DispatchError::Closed));
    }
}
