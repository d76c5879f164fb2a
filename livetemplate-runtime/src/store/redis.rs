//! [`RedisStore`]: session records in Redis, shared by every replica; and [`RedisConnector`],
//! the connection setup it shares with other Redis users.
//!
//! Owns key naming, TTLs, retries and error reporting of the Redis-backed store; the
//! connection itself (reconnects included) is the `redis` crate's `ConnectionManager`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, RedisResult, RetryMethod};
use bytes::Bytes;
use tokio::sync::OnceCell;

use super::retry::Backoff;
use super::{SessionStore, StoreError};
use crate::controller::BoxFuture;

/// How to reach a Redis server, and the one lazily opened connection shared by its clones.
///
/// Creating a connector does no I/O, so an application starts even while Redis is down:
/// the first operation connects, and a failed connect is tried again by the next
/// operation. Once connected, a lost connection is re-established in the background.
///
/// Clones share the connection; hand a clone to every Redis user of the application
/// (session store, pub/sub fan-out) so they share one setup. Code needing a dedicated
/// connection (a pub/sub subscription, for instance) uses [`client`](Self::client).
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::store::{RedisConnector, RedisStore};
///
/// # fn main() -> Result<(), livetemplate_runtime::store::StoreError> {
/// let redis = RedisConnector::new("redis://127.0.0.1:6379/")?; // no connection yet
/// let sessions = RedisStore::new(redis.clone());
/// assert_eq!(sessions.key("g1"), "livetemplate:session:g1");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisConnector {
    inner: Arc<ConnectorInner>,
}

struct ConnectorInner {
    client: Client,
    url: Option<String>,
    connection_timeout: Duration,
    response_timeout: Duration,
    manager: OnceCell<ConnectionManager>,
}

impl RedisConnector {
    /// How long establishing a connection may take by default: 2 s.
    pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);
    /// How long a command may wait for its reply by default: 3 s.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

    /// A connector for `url` (`redis://[user:password@]host[:port][/db]`, `rediss://…` or
    /// `redis+unix:///path`). Does not connect.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidUrl`] if the URL cannot be parsed.
    pub fn new(url: &str) -> Result<RedisConnector, StoreError> {
        let client = Client::open(url).map_err(StoreError::InvalidUrl)?;
        Ok(RedisConnector::build(client, Some(url.to_owned()), None))
    }

    /// A connector around an existing client. Does not connect.
    pub fn from_client(client: Client) -> RedisConnector {
        RedisConnector::build(client, None, None)
    }

    fn build(
        client: Client,
        url: Option<String>,
        timeouts: Option<(Duration, Duration)>,
    ) -> RedisConnector {
        let (connection_timeout, response_timeout) = timeouts.unwrap_or((
            RedisConnector::DEFAULT_CONNECTION_TIMEOUT,
            RedisConnector::DEFAULT_RESPONSE_TIMEOUT,
        ));
        RedisConnector {
            inner: Arc::new(ConnectorInner {
                client,
                url,
                connection_timeout,
                response_timeout,
                manager: OnceCell::new(),
            }),
        }
    }

    /// The same server with other timeouts for connecting and for each reply. The result
    /// has its own connection: call this before handing out clones.
    pub fn with_timeouts(&self, connect: Duration, response: Duration) -> RedisConnector {
        let inner = &self.inner;
        RedisConnector::build(
            inner.client.clone(),
            inner.url.clone(),
            Some((connect, response)),
        )
    }

    /// How long establishing a connection may take.
    pub fn connection_timeout(&self) -> Duration {
        self.inner.connection_timeout
    }

    /// How long a command may wait for its reply.
    pub fn response_timeout(&self) -> Duration {
        self.inner.response_timeout
    }

    /// The underlying client, to open dedicated connections (e.g. pub/sub).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The URL this connector was created from (`None` if built from a client). It may
    /// contain a password: do not log it.
    pub fn url(&self) -> Option<&str> {
        self.inner.url.as_deref()
    }

    /// The server address (`host:port` or socket path), safe to log.
    pub fn addr(&self) -> String {
        self.inner.client.get_connection_info().addr.to_string()
    }

    /// The shared connection, opened on first use. Cheap to clone; commands on it are
    /// multiplexed. After a connection loss the failing command returns an error and a
    /// reconnect starts in the background; if opening fails, the next call tries again.
    ///
    /// # Errors
    ///
    /// The `redis` error if the server cannot be reached.
    pub async fn connection(&self) -> RedisResult<ConnectionManager> {
        let inner = &self.inner;
        let manager = inner
            .manager
            .get_or_try_init(|| async {
                // Retries are the caller's business (see `Backoff`): one attempt here.
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(0)
                    .set_connection_timeout(inner.connection_timeout)
                    .set_response_timeout(inner.response_timeout);
                let manager =
                    ConnectionManager::new_with_config(inner.client.clone(), config).await?;
                tracing::info!(addr = %self.addr(), "connected to Redis");
                Ok::<_, RedisError>(manager)
            })
            .await?;
        Ok(manager.clone())
    }
}

impl fmt::Debug for RedisConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnector")
            .field("addr", &self.addr())
            .field("connected", &self.inner.manager.initialized())
            .finish_non_exhaustive()
    }
}

/// Session records in Redis: one string key per group, `{prefix}{group}` (prefix
/// `livetemplate:session:` by default), with an idle TTL (24 h by default) set on every
/// write and refreshed by every read and touch.
///
/// * Values are stored as given: [`get`](SessionStore::get) returns the exact bytes.
/// * A failed command is retried with exponential [`Backoff`] (3 retries from 100 ms by
///   default) when the failure is transient (connection refused or lost, timeout, server
///   loading); each retry is logged at `warn`, giving up at `error`, and the caller gets
///   [`StoreError::Unavailable`]. Nothing panics, and the next operation tries again.
/// * Construction never touches the network; see [`RedisConnector`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use livetemplate_runtime::store::{Backoff, RedisConnector, RedisStore};
///
/// # fn main() -> Result<(), livetemplate_runtime::store::StoreError> {
/// let store = RedisStore::builder(RedisConnector::new("redis://127.0.0.1/")?)
///     .key_prefix("myapp:session:")
///     .ttl(Duration::from_secs(7 * 24 * 3600))
///     .backoff(Backoff::new(5, Duration::from_millis(50)))
///     .build()?;
/// assert_eq!(store.key("abc"), "myapp:session:abc");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connector: RedisConnector,
    prefix: Arc<str>,
    ttl: Duration,
    ttl_ms: u64,
    backoff: Backoff,
}

/// Configures a [`RedisStore`]; obtained from [`RedisStore::builder`].
#[derive(Clone, Debug)]
#[must_use = "call `.build()` to create the store"]
pub struct RedisStoreBuilder {
    connector: RedisConnector,
    prefix: String,
    ttl: Duration,
    backoff: Backoff,
}

impl RedisStore {
    /// The default key prefix.
    pub const DEFAULT_KEY_PREFIX: &'static str = "livetemplate:session:";
    /// The default idle TTL: 24 hours.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

    /// A store on `url` with the defaults. Does not connect (see [`RedisConnector`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidUrl`] if the URL cannot be parsed.
    pub fn from_url(url: &str) -> Result<RedisStore, StoreError> {
        Ok(RedisStore::new(RedisConnector::new(url)?))
    }

    /// A store on `connector` with the defaults.
    pub fn new(connector: RedisConnector) -> RedisStore {
        RedisStore {
            connector,
            prefix: Arc::from(RedisStore::DEFAULT_KEY_PREFIX),
            ttl: RedisStore::DEFAULT_TTL,
            ttl_ms: duration_ms(RedisStore::DEFAULT_TTL),
            backoff: Backoff::default(),
        }
    }

    /// A builder to choose the key prefix, TTL and retry policy.
    pub fn builder(connector: RedisConnector) -> RedisStoreBuilder {
        RedisStoreBuilder {
            connector,
            prefix: RedisStore::DEFAULT_KEY_PREFIX.to_owned(),
            ttl: RedisStore::DEFAULT_TTL,
            backoff: Backoff::default(),
        }
    }

    /// The connection setup, to share with other Redis users.
    pub fn connector(&self) -> &RedisConnector {
        &self.connector
    }

    /// The prefix of every key this store writes.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The idle TTL of a record.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The Redis key holding the record of `group`.
    pub fn key(&self, group: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + group.len());
        key.push_str(&self.prefix);
        key.push_str(group);
        key
    }

    /// Runs `command` on the shared connection, retrying transient failures.
    async fn run<T, F, Fut>(&self, op: &'static str, mut command: F) -> Result<T, StoreError>
    where
        F: FnMut(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut delays = self.backoff.delays();
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let result = match self.connector.connection().await {
                Ok(connection) => command(connection).await,
                Err(error) => Err(error),
            };
            let error = match result {
                Ok(value) => {
                    if attempts > 1 {
                        tracing::info!(op, attempts, addr = %self.connector.addr(), "Redis session store reachable again");
                    }
                    return Ok(value);
                }
                Err(error) => error,
            };
            if !is_transient(&error) {
                tracing::error!(op, %error, addr = %self.connector.addr(), "Redis session store command failed");
                return Err(StoreError::Command { op, source: error });
            }
            let Some(delay) = delays.next() else {
                tracing::error!(op, attempts, %error, addr = %self.connector.addr(), "Redis session store unavailable");
                return Err(StoreError::Unavailable {
                    op,
                    attempts,
                    source: error,
                });
            };
            tracing::warn!(
                op,
                attempt = attempts,
                retry_in_ms = duration_ms(delay),
                %error,
                addr = %self.connector.addr(),
                "Redis session store unreachable, retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn get_record(&self, group: &str) -> Result<Option<Bytes>, StoreError> {
        let key = self.key(group);
        let (key, ttl_ms) = (key.as_str(), self.ttl_ms);
        let (value, _refreshed): (Option<Vec<u8>>, i64) = self
            .run("get", |mut c| async move {
                ::redis::pipe()
                    .get(key)
                    .pexpire(key, ttl_ms as i64)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(value.map(Bytes::from))
    }

    async fn set_record(&self, group: &str, value: Bytes) -> Result<(), StoreError> {
        let key = self.key(group);
        let (key, value, ttl_ms) = (key.as_str(), &value[..], self.ttl_ms);
        self.run("set", |mut c| async move {
            ::redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ttl_ms)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    async fn delete_record(&self, group: &str) -> Result<(), StoreError> {
        let key = self.key(group);
        let key = key.as_str();
        self.run("delete", |mut c| async move {
            ::redis::cmd("DEL")
                .arg(key)
                .query_async::<i64>(&mut c)
                .await
        })
        .await?;
        Ok(())
    }

    async fn touch_record(&self, group: &str) -> Result<bool, StoreError> {
        let key = self.key(group);
        let (key, ttl_ms) = (key.as_str(), self.ttl_ms);
        let found = self
            .run("touch", |mut c| async move {
                ::redis::cmd("PEXPIRE")
                    .arg(key)
                    .arg(ttl_ms)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await?;
        Ok(found == 1)
    }

    async fn list_groups(&self) -> Result<Vec<String>, StoreError> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let pattern = pattern.as_str();
        let prefix = self.prefix.as_bytes();
        self.run("list", |mut c| async move {
            let mut groups = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<Vec<u8>>) = ::redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut c)
                    .await?;
                for key in keys {
                    // Keys not written by this store (not UTF-8) are not groups.
                    if let Some(Ok(group)) = key.strip_prefix(prefix).map(std::str::from_utf8) {
                        groups.push(group.to_owned());
                    }
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            groups.sort_unstable();
            groups.dedup(); // SCAN may return a key twice
            Ok(groups)
        })
        .await
    }

    async fn ping_server(&self) -> Result<(), StoreError> {
        self.run("ping", |mut c| async move {
            ::redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await?;
        Ok(())
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("connector", &self.connector)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `livetemplate:session:`). Give each application
    /// sharing a Redis database its own.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> RedisStoreBuilder {
        self.prefix = prefix.into();
        self
    }

    /// How long a record may stay idle (default 24 h); at least 1 ms, counted in whole
    /// milliseconds.
    pub fn ttl(mut self, ttl: Duration) -> RedisStoreBuilder {
        self.ttl = ttl;
        self
    }

    /// The retry policy for transient failures (default 3 retries from 100 ms).
    pub fn backoff(mut self, backoff: Backoff) -> RedisStoreBuilder {
        self.backoff = backoff;
        self
    }

    /// Creates the store. Does not connect.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidConfig`] if the TTL is shorter than 1 ms or too large for Redis.
    pub fn build(self) -> Result<RedisStore, StoreError> {
        let ttl_ms = self.ttl.as_millis();
        if ttl_ms == 0 {
            return Err(StoreError::InvalidConfig(format!(
                "Redis session TTL must be at least 1 ms, got {:?}",
                self.ttl
            )));
        }
        // Redis adds the TTL to the current time in milliseconds as a signed 64-bit number.
        if ttl_ms > (i64::MAX / 2) as u128 {
            return Err(StoreError::InvalidConfig(format!(
                "Redis session TTL {:?} is too large",
                self.ttl
            )));
        }
        Ok(RedisStore {
            connector: self.connector,
            prefix: Arc::from(self.prefix),
            ttl: self.ttl,
            ttl_ms: ttl_ms as u64,
            backoff: self.backoff,
        })
    }
}

impl SessionStore for RedisStore {
    fn get<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        Box::pin(self.get_record(group))
    }

    fn set<'a>(&'a self, group: &'a str, value: Bytes) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.set_record(group, value))
    }

    fn delete<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.delete_record(group))
    }

    fn touch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.touch_record(group))
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.list_groups())
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.ping_server())
    }
}

/// Whether retrying after `error` may help: connection trouble, timeouts, a server busy
/// loading or failing over. Errors the server reports about the command itself, and
/// authentication failures, are not retried.
pub(crate) fn is_transient(error: &RedisError) -> bool {
    if error.kind() == ::redis::ErrorKind::AuthenticationFailed {
        return false;
    }
    !matches!(error.retry_method(), RetryMethod::NoRetry)
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Escapes the glob metacharacters of Redis `MATCH` patterns.
pub(crate) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(
            glob_escape("livetemplate:session:"),
            "livetemplate:session:"
        );
        assert_eq!(glob_escape(r"a*b?[c]\d"), r"a\*b\?\[c\]\\d");
    }

    #[test]
    fn invalid_urls_are_rejected_without_echoing_them() {
        let err = RedisConnector::new("not a url").unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl(_)), "{err:?}");
        let err = RedisStore::from_url("http://user:secret@example.com/").unwrap_err();
        assert!(err.to_string().starts_with("invalid Redis URL"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn ttl_is_validated() {
        let c = RedisConnector::new("redis://127.0.0.1/").unwrap();
        let err = RedisStore::builder(c.clone())
            .ttl(Duration::from_micros(999))
            .build();
        assert!(matches!(err, Err(StoreError::InvalidConfig(m)) if m.contains("at least 1 ms")));
        let err = RedisStore::builder(c.clone()).ttl(Duration::MAX).build();
        assert!(matches!(err, Err(StoreError::InvalidConfig(m)) if m.contains("too large")));
        let s = RedisStore::builder(c)
            .ttl(Duration::from_millis(1500))
            .build()
            .unwrap();
        assert_eq!(s.ttl_ms, 1500);
    }

    #[test]
    fn defaults_match_the_documentation() {
        let s = RedisStore::from_url("redis://127.0.0.1:6379/").unwrap();
        assert_eq!(s.key_prefix(), "livetemplate:session:");
        assert_eq!(s.ttl(), Duration::from_secs(86_400));
        assert_eq!(s.backoff, Backoff::new(3, Duration::from_millis(100)));
        assert_eq!(s.key("g"), "livetemplate:session:g");
        assert_eq!(s.connector().addr(), "127.0.0.1:6379");
        assert!(
            !format!("{s:?}").contains("redis://"),
            "Debug does not print the URL"
        );
    }

    #[test]
    fn transient_errors_are_told_apart() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_transient(&refused));
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert!(is_transient(&timeout));
        let wrong_type = RedisError::from((::redis::ErrorKind::TypeError, "WRONGTYPE"));
        assert!(!is_transient(&wrong_type));
        let auth = RedisError::from((::redis::ErrorKind::AuthenticationFailed, "WRONGPASS"));
        assert!(!is_transient(&auth));
        let loading = RedisError::from((::redis::ErrorKind::BusyLoadingError, "LOADING"));
        assert!(is_transient(&loading));
    }
}
