//! Persistence of `#[persist]` fields: when a page's persisted fields are read from and
//! written to its handler's [`SessionStore`], under which key, and what happens when the
//! store fails.
//!
//! # Key
//!
//! One record per session group **and page path**: `<group>|<path>` (the request path
//! without the query, e.g. `a1b2…|/todos`; `%` and `|` in the group are percent-encoded
//! so that no two (group, path) pairs share a key). All tabs of a group on one path
//! share the record (last writer wins); each path has its own, so navigating to another
//! page neither resets nor overwrites what the first page persisted, and coming back
//! finds it again.
//!
//! # Schedule
//!
//! * **Read** when a page starts: every HTTP GET and POST and every WebSocket connect.
//!   A record found is restored into a clone of the handler's initial state (only the
//!   persisted fields present in the record change); a WebSocket connect that restored
//!   something mounts with [`ConnectKind::Restored`], otherwise with
//!   [`ConnectKind::NewConnect`].
//! * **Written** after a successful mount on GET and on WebSocket connect (and
//!   `__navigate__`), and after every successful action: client, HTTP POST, peer and
//!   server dispatch. Never after `on_connect`, never after a failed mount or action,
//!   never after the mount that precedes an HTTP POST's action.
//! * A write is skipped when the serialized fields equal the bytes this page last read
//!   or wrote, unless that was more than [`REWRITE_AFTER`] ago (so an open page keeps
//!   its record from expiring). A state without `#[persist]` fields never touches the
//!   store.
//!
//! # Failures
//!
//! Nothing here fails a request. A failed read starts from the initial state (and the
//! write after the following mount is skipped, so a flaky store cannot overwrite a good
//! record with defaults); a record that does not restore (wrong types) is ignored; a
//! failed write leaves the action committed in memory, and the next write tries again.
//! Each failure is logged at `warn` with the group, path and operation, and counted in
//! [`PersistStats`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::context::ConnectKind;
use crate::controller::LiveState;
use crate::store::{MemoryStore, SessionStore};

/// How long an unchanged record may go without being rewritten by a page that keeps
/// acting on it.
pub const REWRITE_AFTER: Duration = Duration::from_secs(60);

/// A handler's session store and its counters.
#[derive(Clone)]
pub(crate) struct Persistence {
    store: Arc<dyn SessionStore>,
    /// Set with [`LiveHandler::session_store`](super::LiveHandler::session_store): an
    /// [`App`](super::App) does not replace it with its own.
    explicit: bool,
    counters: Arc<Counters>,
}

impl Default for Persistence {
    fn default() -> Persistence {
        Persistence {
            store: Arc::new(MemoryStore::new()),
            explicit: false,
            counters: Arc::default(),
        }
    }
}

impl fmt::Debug for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistence")
            .field("explicit", &self.explicit)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Persistence {
    /// Use `store`, chosen by the application for this handler.
    pub(crate) fn set_store(&mut self, store: Arc<dyn SessionStore>) {
        self.store = store;
        self.explicit = true;
    }

    /// Use `store` unless the handler chose one itself. Returns whether it changed.
    pub(crate) fn adopt_store(&mut self, store: &Arc<dyn SessionStore>) -> bool {
        if self.explicit || Arc::ptr_eq(&self.store, store) {
            return false;
        }
        self.store = store.clone();
        true
    }

    /// The store in use.
    pub(crate) fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> PersistStats {
        self.counters.snapshot()
    }

    /// Read the record of `slot` and restore it into a clone of `initial`. Sets
    /// `slot.restored` when persisted fields were found and applied.
    pub(crate) async fn load<S: LiveState>(&self, initial: &S, slot: &mut Slot) -> S {
        let mut state = initial.clone();
        if S::PERSISTED.is_empty() {
            return state;
        }
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        let bytes = match self.store.get(&slot.key).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return state,
            Err(error) => {
                self.counters.read_errors.fetch_add(1, Ordering::Relaxed);
                slot.read_failed = true;
                tracing::warn!(group = %slot.group, path = %slot.path, op = "get", %error,
                    "session store read failed; starting from the initial state");
                return state;
            }
        };
        match state.restore_persisted(&bytes) {
            Ok(()) => {
                slot.restored = true;
                slot.last = Some((bytes, Instant::now()));
                state
            }
            Err(error) => {
                self.counters.restore_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(group = %slot.group, path = %slot.path, op = "restore", %error,
                    "stored persisted fields do not fit the state; starting from the initial state");
                initial.clone()
            }
        }
    }

    /// Write the persisted fields of `state` after a successful call (see the schedule
    /// in the module docs); `after` is the call that just committed.
    pub(crate) async fn save<S: LiveState>(&self, slot: &mut Slot, state: &S, after: After) {
        if S::PERSISTED.is_empty() {
            return;
        }
        match after {
            After::Connect | After::Mount(ConnectKind::Action) => return,
            After::Mount(_) if slot.read_failed => return,
            After::Mount(_) | After::Action => {}
        }
        let bytes = match state.save_persisted() {
            Ok(Some(bytes)) => Bytes::from(bytes),
            Ok(None) => return,
            Err(error) => {
                self.counters.write_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(group = %slot.group, path = %slot.path, op = "serialize", %error,
                    "persisted fields failed to serialize; not saved");
                return;
            }
        };
        if let Some((last, at)) = &slot.last {
            if *last == bytes && at.elapsed() < REWRITE_AFTER {
                self.counters.skipped_writes.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        self.counters.writes.fetch_add(1, Ordering::Relaxed);
        let written = match self.store.set_now(&slot.key, &bytes) {
            Some(done) => done,
            None => self.store.set(&slot.key, bytes.clone()).await,
        };
        match written {
            Ok(()) => {
                slot.read_failed = false;
                slot.last = Some((bytes, Instant::now()));
            }
            Err(error) => {
                self.counters.write_errors.fetch_add(1, Ordering::Relaxed);
                slot.last = None;
                tracing::warn!(group = %slot.group, path = %slot.path, op = "set", %error,
                    "session store write failed; the change lives in memory only until the next save");
            }
        }
    }
}

/// Which successful call a save follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// Mount, with the kind it ran with.
    Mount(ConnectKind),
    /// The connect hook (never saved).
    Connect,
    /// An action (client, HTTP, peer or server).
    Action,
}

/// One page's place in the store: its key and what it last read or wrote there.
#[derive(Debug)]
pub(crate) struct Slot {
    key: String,
    group: String,
    path: String,
    /// The bytes last read or written, and when.
    last: Option<(Bytes, Instant)>,
    /// Persisted fields were found and restored when the page started.
    pub(crate) restored: bool,
    /// The read when the page started failed.
    read_failed: bool,
}

impl Slot {
    /// The slot of `group` on `path`.
    pub(crate) fn new(group: &str, path: &str) -> Slot {
        let path = if path.is_empty() { "/" } else { path };
        Slot {
            key: store_key(group, path),
            group: group.to_string(),
            path: path.to_string(),
            last: None,
            restored: false,
            read_failed: false,
        }
    }

    /// The kind of a WebSocket connect that started with this slot.
    pub(crate) fn connect_kind(&self) -> ConnectKind {
        if self.restored {
            ConnectKind::Restored
        } else {
            ConnectKind::NewConnect
        }
    }
}

/// The store key of `group` on `path`: `<group>|<path>` with `%` and `|` of the group
/// percent-encoded.
pub(crate) fn store_key(group: &str, path: &str) -> String {
    let mut key = String::with_capacity(group.len() + path.len() + 1);
    for c in group.chars() {
        match c {
            '%' => key.push_str("%25"),
            '|' => key.push_str("%7C"),
            c => key.push(c),
        }
    }
    key.push('|');
    key.push_str(path);
    key
}

/// How a handler's persistence went so far (counted since the handler was built).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PersistStats {
    /// Store reads (one per page start, when the state has persisted fields).
    pub reads: u64,
    /// Reads that failed (the page started from the initial state).
    pub read_errors: u64,
    /// Records found that did not restore into the state (ignored).
    pub restore_errors: u64,
    /// Store writes attempted.
    pub writes: u64,
    /// Writes that failed, or persisted fields that did not serialize.
    pub write_errors: u64,
    /// Writes skipped because nothing persisted changed.
    pub skipped_writes: u64,
}

impl PersistStats {
    /// Every failure counted: read, restore and write errors.
    pub fn errors(&self) -> u64 {
        self.read_errors + self.restore_errors + self.write_errors
    }
}

#[derive(Default)]
struct Counters {
    reads: AtomicU64,
    read_errors: AtomicU64,
    restore_errors: AtomicU64,
    writes: AtomicU64,
    write_errors: AtomicU64,
    skipped_writes: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> PersistStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PersistStats {
            reads: get(&self.reads),
            read_errors: get(&self.read_errors),
            restore_errors: get(&self.restore_errors),
            writes: get(&self.writes),
            write_errors: get(&self.write_errors),
            skipped_writes: get(&self.skipped_writes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_group_and_path_and_unambiguous() {
        assert_eq!(store_key("abc", "/todos"), "abc|/todos");
        assert_ne!(store_key("a|/x", "/y"), store_key("a", "/x|/y"));
        assert_eq!(store_key("a|b%", "/"), "a%7Cb%25|/");
        assert_eq!(Slot::new("g", "").key, "g|/");
    }

    #[test]
    fn connect_kind_follows_restore() {
        let mut slot = Slot::new("g", "/");
        assert_eq!(slot.connect_kind(), ConnectKind::NewConnect);
        slot.restored = true;
        assert_eq!(slot.connect_kind(), ConnectKind::Restored);
    }
}
