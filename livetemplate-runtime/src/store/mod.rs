//! Session stores: where the `#[persist]` fields of a session group live between requests.
//!
//! A [`SessionStore`] maps a session group id to an opaque byte string (the runtime stores
//! the persisted fields of a state as one JSON document). It owns nothing else: no
//! serialization, no knowledge of states, connections or paths. (The transport names a
//! record by session group and page path, `<group>|<path>`; see
//! [`transport::persist`](crate::transport::persist).)
//!
//! # The contract every store keeps
//!
//! * [`get`](SessionStore::get) returns **exactly** the bytes last given to
//!   [`set`](SessionStore::set) for that group (any bytes, not only UTF-8), or `None` if the
//!   group was never written, was deleted, or expired.
//! * Last writer wins: `set` replaces the whole record, there is no merge.
//! * Records expire after a period without access (`get`, `set` and `touch` count as
//!   access); how long is a property of the store.
//! * Failures are values ([`StoreError`]), never panics; the caller decides whether a failed
//!   read means "start fresh".
//!
//! # Stores
//!
//! * [`MemoryStore`] (the default): a map in this process, idle entries swept by a
//!   background task, optional entry bound. Sessions do not survive a restart.
//! * [`RedisStore`]: shared by every replica, keys `livetemplate:session:{group}` with a TTL
//!   refreshed on access, retries with exponential backoff. Its connection setup,
//!   [`RedisConnector`], can be shared with other Redis users.
//!
//! Stores are used as `Arc<dyn SessionStore>`:
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use livetemplate_runtime::store::{MemoryStore, SessionStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), livetemplate_runtime::store::StoreError> {
//! let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
//! store.set("group-1", Bytes::from_static(b"{\"count\":3}")).await?;
//! assert_eq!(store.get("group-1").await?.as_deref(), Some(&b"{\"count\":3}"[..]));
//! store.delete("group-1").await?;
//! assert_eq!(store.get("group-1").await?, None);
//! # Ok(())
//! # }
//! ```

mod memory;
mod redis;
mod retry;

use std::sync::Arc;

use bytes::Bytes;

use crate::controller::BoxFuture;

pub use self::memory::{MemoryStore, MemoryStoreBuilder};
pub(crate) use self::redis::{glob_escape, is_transient};
pub use self::redis::{RedisConnector, RedisStore, RedisStoreBuilder};
pub use self::retry::Backoff;

/// Storage for the persisted fields of session groups: bytes in, the same bytes out.
///
/// Object-safe: the runtime holds an `Arc<dyn SessionStore>`. Implementations must be
/// cheap to call concurrently from many connections.
///
/// See the [module documentation](self) for the contract every implementation keeps.
pub trait SessionStore: Send + Sync + 'static {
    /// The record of `group`, exactly as last written, or `None` if there is none (never
    /// written, deleted or expired). Counts as an access: the record's idle timer restarts.
    fn get<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>>;

    /// Replaces the record of `group` with `value` and restarts its idle timer.
    fn set<'a>(&'a self, group: &'a str, value: Bytes) -> BoxFuture<'a, Result<(), StoreError>>;

    /// [`SessionStore::set`] done at once, for a store that never waits (one in memory):
    /// `Some` with the outcome, or `None` when the store cannot, and the caller awaits
    /// `set` instead. Spares a boxed future per write; the default returns `None`.
    fn set_now(&self, group: &str, value: &Bytes) -> Option<Result<(), StoreError>> {
        let _ = (group, value);
        None
    }

    /// Removes the record of `group`. Removing a missing record is not an error.
    fn delete<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Restarts the idle timer of `group` without reading it. Returns whether a record
    /// exists.
    fn touch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The groups that currently have a record (in no particular order). Meant for
    /// housekeeping (dropping caches of groups whose record is gone), not for hot paths.
    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// Checks that the store can serve requests (for readiness checks). The default
    /// implementation always succeeds.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    fn get<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        (**self).get(group)
    }

    fn set<'a>(&'a self, group: &'a str, value: Bytes) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).set(group, value)
    }

    fn set_now(&self, group: &str, value: &Bytes) -> Option<Result<(), StoreError>> {
        (**self).set_now(group, value)
    }

    fn delete<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).delete(group)
    }

    fn touch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).touch(group)
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        (**self).list()
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        (**self).ping()
    }
}

/// Why a session store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A store was configured with a value it cannot work with (for example a zero TTL).
    #[error("invalid session store configuration: {0}")]
    InvalidConfig(String),

    /// The Redis URL could not be parsed; the URL itself is not repeated because it may
    /// hold a password.
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(#[source] ::redis::RedisError),

    /// The backend could not be reached (connection refused or lost, timeout) and every
    /// retry failed. Check that the server is running and reachable; the next operation
    /// tries again.
    #[error("session store unavailable: `{op}` failed after {attempts} attempt(s): {source}")]
    Unavailable {
        /// The operation that failed (`get`, `set`, …).
        op: &'static str,
        /// How many times it was tried.
        attempts: u32,
        /// The last error.
        #[source]
        source: ::redis::RedisError,
    },

    /// The backend answered with an error that retrying cannot fix (wrong type, permission,
    /// authentication …).
    #[error("session store command `{op}` failed: {source}")]
    Command {
        /// The operation that failed.
        op: &'static str,
        /// The error the backend returned.
        #[source]
        source: ::redis::RedisError,
    },

    /// An error of a store implemented outside this crate.
    #[error("session store error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps the error of a custom store.
    pub fn backend(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
        StoreError::Backend(error.into())
    }

    /// Whether the failure is transient (the backend was unreachable): the same call may
    /// succeed later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}
