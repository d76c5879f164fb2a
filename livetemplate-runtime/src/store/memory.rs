//! [`MemoryStore`]: session records in a map of this process, idle ones swept away.
//!
//! Owns the map, the idle-expiry bookkeeping and its sweeper task; nothing here does I/O.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::task::AbortHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::{SessionStore, StoreError};
use crate::controller::BoxFuture;

/// The default store: records kept in memory, dropped after a period without access.
///
/// * A record idle (neither read, written nor touched) for longer than the TTL (default
///   24 h) is gone: reads treat it as absent at once, and a background sweeper (every hour
///   by default) frees its memory.
/// * With [`max_entries`](MemoryStoreBuilder::max_entries), writing a new group into a full
///   store first evicts the least recently accessed record, so memory stays bounded even
///   under a flood of new sessions.
/// * Everything is lost when the process exits (browsers keep their cookie, their state
///   starts fresh).
///
/// Clones share the same records. The sweeper is a tokio task started by the first
/// operation (or by [`build`](MemoryStoreBuilder::build) inside a runtime); it holds no
/// strong reference to the store and is stopped when the last clone is dropped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use livetemplate_runtime::store::MemoryStore;
///
/// # fn main() -> Result<(), livetemplate_runtime::store::StoreError> {
/// let store = MemoryStore::builder()
///     .ttl(Duration::from_secs(30 * 60))
///     .sweep_interval(Duration::from_secs(60))
///     .max_entries(100_000)
///     .build()?;
/// assert!(store.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

/// Configures a [`MemoryStore`]; obtained from [`MemoryStore::builder`].
#[derive(Clone, Debug)]
#[must_use = "call `.build()` to create the store"]
pub struct MemoryStoreBuilder {
    ttl: Duration,
    sweep_interval: Duration,
    max_entries: Option<usize>,
}

struct Inner {
    state: Mutex<State>,
    ttl: Duration,
    sweep_interval: Duration,
    max_entries: Option<usize>,
    sweeper: OnceLock<AbortHandle>,
}

#[derive(Default)]
struct State {
    entries: HashMap<Arc<str>, Entry>,
    /// Groups by access sequence number: the first is the least recently accessed.
    by_age: BTreeMap<u64, Arc<str>>,
    next_seq: u64,
}

struct Entry {
    value: Bytes,
    last_access: Instant,
    seq: u64,
}

impl MemoryStore {
    /// How long an idle record is kept by default: 24 hours.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
    /// How often expired records are swept by default: every hour.
    pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

    /// A store with the defaults: TTL 24 h, sweep every hour, no entry bound.
    pub fn new() -> MemoryStore {
        MemoryStore::from_builder(MemoryStore::builder())
    }

    /// A builder to choose the TTL, the sweep interval and an entry bound.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            ttl: MemoryStore::DEFAULT_TTL,
            sweep_interval: MemoryStore::DEFAULT_SWEEP_INTERVAL,
            max_entries: None,
        }
    }

    fn from_builder(b: MemoryStoreBuilder) -> MemoryStore {
        let store = MemoryStore {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                ttl: b.ttl,
                sweep_interval: b.sweep_interval,
                max_entries: b.max_entries,
                sweeper: OnceLock::new(),
            }),
        };
        store.ensure_sweeper();
        store
    }

    /// How long a record may stay idle.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// How many records are held, counting expired ones the sweeper has not removed yet.
    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every expired record now (the sweeper does this periodically); returns how
    /// many were removed.
    pub fn sweep(&self) -> usize {
        self.inner.sweep(Instant::now())
    }

    /// Starts the sweeper if it is not running and a tokio runtime is available.
    fn ensure_sweeper(&self) {
        if self.inner.sweeper.get().is_some() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.inner.sweeper.get_or_init(|| {
            let weak = Arc::downgrade(&self.inner);
            handle
                .spawn(sweep_loop(weak, self.inner.sweep_interval))
                .abort_handle()
        });
    }
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("ttl", &self.inner.ttl)
            .field("sweep_interval", &self.inner.sweep_interval)
            .field("max_entries", &self.inner.max_entries)
            .field("len", &self.len())
            .finish()
    }
}

impl MemoryStoreBuilder {
    /// How long a record may stay idle before it expires (default 24 h). Must not be zero.
    pub fn ttl(mut self, ttl: Duration) -> MemoryStoreBuilder {
        self.ttl = ttl;
        self
    }

    /// How often the sweeper frees expired records (default 1 h). Must not be zero.
    pub fn sweep_interval(mut self, interval: Duration) -> MemoryStoreBuilder {
        self.sweep_interval = interval;
        self
    }

    /// The most records held at once (default: unbounded). A new group written into a full
    /// store evicts the least recently accessed record. Must not be zero.
    pub fn max_entries(mut self, max: usize) -> MemoryStoreBuilder {
        self.max_entries = Some(max);
        self
    }

    /// Creates the store.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidConfig`] if the TTL, the sweep interval or the entry bound is
    /// zero.
    pub fn build(self) -> Result<MemoryStore, StoreError> {
        if self.ttl.is_zero() {
            return Err(StoreError::InvalidConfig(
                "memory store TTL must be greater than zero".into(),
            ));
        }
        if self.sweep_interval.is_zero() {
            return Err(StoreError::InvalidConfig(
                "memory store sweep interval must be greater than zero".into(),
            ));
        }
        if self.max_entries == Some(0) {
            return Err(StoreError::InvalidConfig(
                "memory store max_entries must be at least 1".into(),
            ));
        }
        Ok(MemoryStore::from_builder(self))
    }
}

/// Sweeps `weak` every `period` until the store is gone.
async fn sweep_loop(weak: Weak<Inner>, period: Duration) {
    let Some(start) = Instant::now().checked_add(period) else {
        return; // a period this long never elapses
    };
    let mut interval = tokio::time::interval_at(start, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(inner) = weak.upgrade() else {
            break;
        };
        let removed = inner.sweep(Instant::now());
        if removed > 0 {
            tracing::debug!(
                removed,
                remaining = inner.lock().entries.len(),
                "swept expired sessions"
            );
        }
    }
    tracing::trace!("memory store dropped, sweeper stopped");
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(sweeper) = self.sweeper.get() {
            sweeper.abort();
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The critical sections cannot panic half-way, so a poisoned map is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn expired(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.last_access) >= self.ttl
    }

    fn get(&self, group: &str) -> Option<Bytes> {
        let now = Instant::now();
        let mut state = self.lock();
        let entry = state.entries.get(group)?;
        if self.expired(entry, now) {
            state.remove(group);
            return None;
        }
        state.bump(group, now).map(|e| e.value.clone())
    }

    fn touch(&self, group: &str) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        let Some(entry) = state.entries.get(group) else {
            return false;
        };
        if self.expired(entry, now) {
            state.remove(group);
            return false;
        }
        state.bump(group, now).is_some()
    }

    fn set(&self, group: &str, value: Bytes) {
        let now = Instant::now();
        let mut state = self.lock();
        let state = &mut *state;
        if let Some(entry) = state.entries.get_mut(group) {
            // One lookup: the entry is replaced and made the most recent in place.
            entry.value = value;
            renew(&mut state.by_age, &mut state.next_seq, entry, group, now);
            return;
        }
        if let Some(max) = self.max_entries {
            while state.entries.len() >= max {
                let Some((_, oldest)) = state.by_age.pop_first() else {
                    break;
                };
                if let Some(evicted) = state.entries.remove(&oldest) {
                    if !self.expired(&evicted, now) {
                        tracing::debug!(group = %oldest, max, "session store full, evicted least recently used group");
                    }
                }
            }
        }
        let seq = state.next_seq();
        let key: Arc<str> = Arc::from(group);
        state.by_age.insert(seq, Arc::clone(&key));
        state.entries.insert(
            key,
            Entry {
                value,
                last_access: now,
                seq,
            },
        );
    }

    fn delete(&self, group: &str) {
        self.lock().remove(group);
    }

    fn list(&self) -> Vec<String> {
        let now = Instant::now();
        let state = self.lock();
        state
            .entries
            .iter()
            .filter(|(_, e)| !self.expired(e, now))
            .map(|(k, _)| k.to_string())
            .collect()
    }

    /// Removes the expired records, oldest first; returns how many.
    fn sweep(&self, now: Instant) -> usize {
        let mut state = self.lock();
        let mut removed = 0;
        while let Some((_, oldest)) = state.by_age.first_key_value() {
            let expired = state
                .entries
                .get(oldest)
                .is_none_or(|e| self.expired(e, now));
            if !expired {
                break; // everything after it was accessed later
            }
            if let Some((_, key)) = state.by_age.pop_first() {
                state.entries.remove(&key);
                removed += 1;
            }
        }
        // Give memory back after a burst of abandoned sessions.
        let (len, cap) = (state.entries.len(), state.entries.capacity());
        if cap > 1024 && len < cap / 4 {
            state.entries.shrink_to(len * 2);
        }
        removed
    }
}

impl State {
    fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Marks `group` as accessed now (it becomes the most recently used).
    fn bump(&mut self, group: &str, now: Instant) -> Option<&Entry> {
        let entry = self.entries.get_mut(group)?;
        renew(&mut self.by_age, &mut self.next_seq, entry, group, now);
        Some(entry)
    }

    fn remove(&mut self, group: &str) {
        if let Some(entry) = self.entries.remove(group) {
            self.by_age.remove(&entry.seq);
        }
    }
}

/// Marks `entry` (of `group`) as accessed now: it becomes the most recently used.
fn renew(
    by_age: &mut BTreeMap<u64, Arc<str>>,
    next_seq: &mut u64,
    entry: &mut Entry,
    group: &str,
    now: Instant,
) {
    entry.last_access = now;
    if next_seq.checked_sub(1) == Some(entry.seq) {
        // Already the most recently used (a group writing again): no reordering.
        return;
    }
    let seq = *next_seq;
    *next_seq += 1;
    let key = by_age.remove(&entry.seq);
    entry.seq = seq;
    by_age.insert(seq, key.unwrap_or_else(|| Arc::from(group)));
}

impl SessionStore for MemoryStore {
    fn get<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        Box::pin(async move {
            self.ensure_sweeper();
            Ok(self.inner.get(group))
        })
    }

    fn set<'a>(&'a self, group: &'a str, value: Bytes) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.ensure_sweeper();
            self.inner.set(group, value);
            Ok(())
        })
    }

    fn set_now(&self, group: &str, value: &Bytes) -> Option<Result<(), StoreError>> {
        self.ensure_sweeper();
        self.inner.set(group, value.clone());
        Some(Ok(()))
    }

    fn delete<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.inner.delete(group);
            Ok(())
        })
    }

    fn touch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            self.ensure_sweeper();
            Ok(self.inner.touch(group))
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { Ok(self.inner.list()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(ttl_ms: u64, sweep_ms: u64) -> MemoryStore {
        MemoryStore::builder()
            .ttl(Duration::from_millis(ttl_ms))
            .sweep_interval(Duration::from_millis(sweep_ms))
            .build()
            .expect("valid config")
    }

    #[tokio::test(start_paused = true)]
    async fn idle_records_expire_and_reads_refresh_them() {
        let s = store(1000, 1_000_000);
        s.set("a", Bytes::from_static(b"1")).await.unwrap();
        s.set("b", Bytes::from_static(b"2")).await.unwrap();
        tokio::time::advance(Duration::from_millis(600)).await;
        assert_eq!(s.get("a").await.unwrap().as_deref(), Some(&b"1"[..])); // refreshes a
        tokio::time::advance(Duration::from_millis(600)).await;
        // b idle 1200 ms: gone even before any sweep; a idle 600 ms: still there.
        assert_eq!(s.get("b").await.unwrap(), None);
        assert_eq!(s.get("a").await.unwrap().as_deref(), Some(&b"1"[..]));
        assert!(s.touch("a").await.unwrap());
        tokio::time::advance(Duration::from_millis(999)).await;
        assert_eq!(s.list().await.unwrap(), vec!["a".to_string()]);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(s.list().await.unwrap().is_empty());
        assert!(!s.touch("a").await.unwrap());
        assert_eq!(s.len(), 0, "an expired touch removes the record");
    }

    #[tokio::test(start_paused = true)]
    async fn sweep_removes_only_expired_records() {
        let s = store(1000, 1_000_000);
        for i in 0..10 {
            s.set(&format!("old-{i}"), Bytes::new()).await.unwrap();
        }
        tokio::time::advance(Duration::from_millis(500)).await;
        s.set("new", Bytes::new()).await.unwrap();
        s.touch("old-3").await.unwrap();
        tokio::time::advance(Duration::from_millis(600)).await;
        assert_eq!(s.sweep(), 9);
        let mut left = s.list().await.unwrap();
        left.sort();
        assert_eq!(left, ["new", "old-3"]);
        assert_eq!(
            s.inner.lock().by_age.len(),
            2,
            "age index stays in step with the map"
        );
    }

    #[tokio::test]
    async fn full_store_evicts_least_recently_used() {
        let s = MemoryStore::builder().max_entries(3).build().unwrap();
        for g in ["a", "b", "c"] {
            s.set(g, Bytes::from(g)).await.unwrap();
        }
        s.get("a").await.unwrap(); // b is now the least recently used
        s.set("c", Bytes::from_static(b"c2")).await.unwrap(); // overwrite: no eviction
        assert_eq!(s.len(), 3);
        s.set("d", Bytes::from_static(b"d")).await.unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s.get("b").await.unwrap(), None);
        assert_eq!(s.get("a").await.unwrap().as_deref(), Some(&b"a"[..]));
        assert_eq!(s.get("c").await.unwrap().as_deref(), Some(&b"c2"[..]));
        assert_eq!(s.get("d").await.unwrap().as_deref(), Some(&b"d"[..]));
    }

    #[tokio::test]
    async fn sweeper_is_aborted_when_store_dropped() {
        let s = store(10, 3_600_000);
        s.set("x", Bytes::new()).await.unwrap();
        let handle = s.inner.sweeper.get().expect("sweeper started").clone();
        assert!(!handle.is_finished());
        drop(s);
        for _ in 0..10_000 {
            if handle.is_finished() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("sweeper still running after the store was dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn sweeper_holds_only_a_weak_reference() {
        // Run a loop that nobody aborts: it must end by itself once the store is gone.
        let s = MemoryStore::builder().build().unwrap();
        let task = tokio::spawn(sweep_loop(
            Arc::downgrade(&s.inner),
            Duration::from_millis(10),
        ));
        tokio::time::advance(Duration::from_millis(25)).await;
        assert!(!task.is_finished());
        drop(s);
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("sweep loop ended")
            .expect("sweep loop did not panic");
    }

    #[test]
    fn zero_config_values_are_rejected() {
        let err = MemoryStore::builder()
            .ttl(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("TTL must be greater than zero"),
            "{err}"
        );
        let err = MemoryStore::builder()
            .sweep_interval(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("sweep interval"), "{err}");
        let err = MemoryStore::builder().max_entries(0).build().unwrap_err();
        assert!(err.to_string().contains("max_entries"), "{err}");
    }

    #[test]
    fn works_without_a_runtime_at_construction() {
        let s = MemoryStore::new();
        assert!(s.inner.sweeper.get().is_none());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            s.set("g", Bytes::from_static(b"v")).await.unwrap();
            assert!(
                s.inner.sweeper.get().is_some(),
                "first operation starts the sweeper"
            );
        });
    }

    #[test]
    fn huge_durations_do_not_overflow() {
        let s = MemoryStore::builder()
            .ttl(Duration::MAX)
            .sweep_interval(Duration::MAX)
            .build()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            s.set("g", Bytes::from_static(b"v")).await.unwrap();
            assert_eq!(s.sweep(), 0);
            assert_eq!(s.get("g").await.unwrap().as_deref(), Some(&b"v"[..]));
        });
    }
}
