//! [`RedisFanout`]: the Redis pub/sub link between replicas.
//!
//! Two background tasks per fan-out, started when it is attached to a broker (or at its
//! first use inside a Tokio runtime):
//!
//! - the **publisher** drains a bounded queue of outgoing messages and sends them as
//!   pipelined `PUBLISH` commands on the connector's shared connection (the one the
//!   Redis session store uses too);
//! - the **subscriber** owns a dedicated pub/sub connection: it (re)connects with
//!   backoff, subscribes to every channel the local connections need, follows their
//!   changes, pings to notice a dead server, and hands received messages to the broker.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use ::redis::aio::PubSubSink;
use ::redis::{Msg, RedisError, RedisResult};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch, Notify};

use super::dedup::Dedup;
use super::envelope::{decode, Channels, Outgoing};
use super::{Interest, Local};
use crate::store::{is_transient, RedisConnector, StoreError};

/// Most messages sent in one pipelined round trip.
const MAX_BATCH: usize = 256;
/// Most channels named in one `SUBSCRIBE`/`UNSUBSCRIBE`.
const MAX_SUBSCRIBE_BATCH: usize = 512;
/// Most remembered "how many replicas did the last push to this group reach" entries.
const MAX_REACH_ENTRIES: usize = 65_536;

/// Counters and state of a [`RedisFanout`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanoutMetrics {
    /// Messages sent to Redis (publishes, pushes and syncs for the other replicas).
    pub published: u64,
    /// Messages that could not be sent: Redis unreachable, or the outgoing queue full.
    /// Local delivery of those publishes happened anyway.
    pub lost: u64,
    /// Messages from other replicas delivered to local connections.
    pub received: u64,
    /// Messages received more than once (through overlapping subscriptions) and
    /// delivered once.
    pub duplicates: u64,
    /// Received messages dropped because they did not parse or did not match their
    /// channel.
    pub malformed: u64,
    /// Whether the subscription connection is up.
    pub connected: bool,
    /// How many times the subscriptions were restored after the connection was lost.
    pub restored: u64,
    /// Channels and patterns subscribed now.
    pub channels: usize,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    lost: AtomicU64,
    received: AtomicU64,
    duplicates: AtomicU64,
    malformed: AtomicU64,
    restored: AtomicU64,
    channels: AtomicUsize,
}

/// What the background tasks share with the handle.
struct Control {
    connector: RedisConnector,
    channels: Channels,
    instance: String,
    counters: Counters,
    connected: AtomicBool,
    /// Interests that may have changed since the subscriber last looked.
    pending: Mutex<HashSet<Interest>>,
    wake: Notify,
    /// Replicas reached by the last push or sync to a group (`PUBLISH`'s reply).
    reach: Mutex<HashMap<String, usize>>,
    local: OnceLock<Weak<dyn Local>>,
    retry_min: Duration,
    retry_max: Duration,
    ping_every: Duration,
}

impl Control {
    fn local(&self) -> Option<Arc<dyn Local>> {
        self.local.get()?.upgrade()
    }
}

/// One message waiting to be sent.
struct Message {
    channel: String,
    payload: Vec<u8>,
    group: Option<String>,
}

struct Shared {
    control: Arc<Control>,
    seq: AtomicU64,
    tx: mpsc::Sender<Message>,
    rx: Mutex<Option<mpsc::Receiver<Message>>>,
    started: AtomicBool,
    /// Dropped with the last handle: the background tasks end.
    _shutdown: watch::Sender<()>,
    shutdown_rx: watch::Receiver<()>,
    /// Whether a full-queue loss was logged since the queue last had room.
    queue_full_logged: AtomicBool,
}

/// Cross-replica fan-out over Redis pub/sub (see the [module docs](super)).
///
/// Cheap to clone. Give it to the app with [`App::fanout`](crate::transport::App::fanout)
/// (or to a [`Broker`](crate::transport::Broker) with
/// [`Broker::fanout`](crate::transport::Broker::fanout)); one fan-out serves one broker.
/// Creating it does no I/O: an app starts while Redis is down and links up when Redis
/// answers.
///
/// # Examples
///
/// ```no_run
/// use livetemplate_runtime::replica::RedisFanout;
/// use livetemplate_runtime::store::{RedisConnector, RedisStore};
/// use livetemplate_runtime::transport::App;
///
/// # fn demo(app: App) -> Result<(), Box<dyn std::error::Error>> {
/// let redis = RedisConnector::new("redis://127.0.0.1:6379")?;
/// let app = app
///     .session_store(RedisStore::new(redis.clone()))
///     .fanout(RedisFanout::new(redis));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisFanout {
    shared: Arc<Shared>,
}

/// Configures a [`RedisFanout`]; obtained from [`RedisFanout::builder`].
#[derive(Clone, Debug)]
#[must_use = "call `.build()` to create the fan-out"]
pub struct RedisFanoutBuilder {
    connector: RedisConnector,
    prefix: String,
    queue: usize,
    retry_min: Duration,
    retry_max: Duration,
    ping_every: Duration,
}

impl RedisFanoutBuilder {
    /// Prefix of every channel name (default `livetemplate:`). Replicas of one app must
    /// agree on it; different apps on one Redis keep apart with different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Outgoing messages that may wait to be sent (default 10,000); beyond that they
    /// are dropped and counted as lost.
    pub fn queue(mut self, messages: usize) -> Self {
        self.queue = messages.max(1);
        self
    }

    /// Pause before reconnecting the subscription connection: `min` after the first
    /// failure, doubling up to `max` (default 100 ms to 5 s).
    pub fn reconnect_delay(mut self, min: Duration, max: Duration) -> Self {
        self.retry_min = min.max(Duration::from_millis(1));
        self.retry_max = max.max(self.retry_min);
        self
    }

    /// How often the subscription connection is pinged to notice a server that stopped
    /// answering (default 5 s).
    pub fn ping_interval(mut self, every: Duration) -> Self {
        self.ping_every = every.max(Duration::from_millis(10));
        self
    }

    /// The fan-out.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidConfig`] for an empty prefix.
    pub fn build(self) -> Result<RedisFanout, StoreError> {
        if self.prefix.is_empty() {
            return Err(StoreError::InvalidConfig(
                "the fan-out channel prefix is empty".into(),
            ));
        }
        let (tx, rx) = mpsc::channel(self.queue);
        let (shutdown, shutdown_rx) = watch::channel(());
        let control = Control {
            connector: self.connector,
            channels: Channels::new(&self.prefix),
            instance: format!("{:016x}", rand::random::<u64>()),
            counters: Counters::default(),
            connected: AtomicBool::new(false),
            pending: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            reach: Mutex::new(HashMap::new()),
            local: OnceLock::new(),
            retry_min: self.retry_min,
            retry_max: self.retry_max,
            ping_every: self.ping_every,
        };
        Ok(RedisFanout {
            shared: Arc::new(Shared {
                control: Arc::new(control),
                seq: AtomicU64::new(1),
                tx,
                rx: Mutex::new(Some(rx)),
                started: AtomicBool::new(false),
                _shutdown: shutdown,
                shutdown_rx,
                queue_full_logged: AtomicBool::new(false),
            }),
        })
    }
}

impl RedisFanout {
    /// The default channel prefix.
    pub const DEFAULT_PREFIX: &'static str = "livetemplate:";

    /// A fan-out on `connector` with the defaults.
    pub fn new(connector: RedisConnector) -> RedisFanout {
        // The defaults are valid, so `build` cannot fail.
        match RedisFanout::builder(connector).build() {
            Ok(f) => f,
            Err(e) => unreachable!("default fan-out configuration rejected: {e}"),
        }
    }

    /// A fan-out on `url` with the defaults. Does not connect.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidUrl`] if the URL cannot be parsed.
    pub fn from_url(url: &str) -> Result<RedisFanout, StoreError> {
        Ok(RedisFanout::new(RedisConnector::new(url)?))
    }

    /// A builder to choose the prefix, queue size and reconnect policy.
    pub fn builder(connector: RedisConnector) -> RedisFanoutBuilder {
        RedisFanoutBuilder {
            connector,
            prefix: RedisFanout::DEFAULT_PREFIX.to_owned(),
            queue: 10_000,
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            ping_every: Duration::from_secs(5),
        }
    }

    /// This replica's instance id (16 hex digits, random per fan-out), as sent in every
    /// envelope.
    pub fn instance_id(&self) -> &str {
        &self.shared.control.instance
    }

    /// The connection setup (shared with the Redis session store, if given the same).
    pub fn connector(&self) -> &RedisConnector {
        &self.shared.control.connector
    }

    /// The channel names used.
    pub fn channels(&self) -> &Channels {
        &self.shared.control.channels
    }

    /// The counters so far.
    pub fn metrics(&self) -> FanoutMetrics {
        let c = &self.shared.control;
        let n = &c.counters;
        FanoutMetrics {
            published: n.published.load(Ordering::Relaxed),
            lost: n.lost.load(Ordering::Relaxed),
            received: n.received.load(Ordering::Relaxed),
            duplicates: n.duplicates.load(Ordering::Relaxed),
            malformed: n.malformed.load(Ordering::Relaxed),
            connected: c.connected.load(Ordering::SeqCst),
            restored: n.restored.load(Ordering::Relaxed),
            channels: n.channels.load(Ordering::Relaxed),
        }
    }

    /// Whether both handles are the same fan-out.
    pub fn same_as(&self, other: &RedisFanout) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Link to the broker's local side. `false` when already linked to another one.
    pub(crate) fn attach(&self, local: Weak<dyn Local>) -> bool {
        if self.shared.control.local.set(local).is_err() {
            return false;
        }
        self.ensure_started();
        true
    }

    /// Start the background tasks if they are not running (needs a Tokio runtime; without
    /// one, the next call from inside a runtime starts them).
    fn ensure_started(&self) {
        let s = &self.shared;
        if s.started.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if s.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let rx = s.rx.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(rx) = rx {
            runtime.spawn(publisher(s.control.clone(), rx));
        }
        runtime.spawn(subscriber(s.control.clone(), s.shutdown_rx.clone()));
    }

    /// Queue a message for the other replicas (never waits).
    pub(crate) fn send(&self, out: Outgoing<'_>) {
        self.ensure_started();
        let s = &self.shared;
        let c = &s.control;
        let seq = s.seq.fetch_add(1, Ordering::Relaxed);
        let payload = match out.encode(&c.instance, seq) {
            Ok(p) => p,
            Err(e) => {
                c.counters.lost.fetch_add(1, Ordering::Relaxed);
                tracing::error!(event = "fanout_encode_failed", error = %e, "cannot encode a message for the other replicas");
                return;
            }
        };
        let message = Message {
            channel: out.channel(&c.channels),
            payload,
            group: out.group().map(str::to_owned),
        };
        match s.tx.try_send(message) {
            Ok(()) => {
                s.queue_full_logged.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                c.counters.lost.fetch_add(1, Ordering::Relaxed);
                let full = matches!(e, mpsc::error::TrySendError::Full(_));
                if full && !s.queue_full_logged.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        event = "fanout_queue_full",
                        "outgoing queue for the other replicas is full: messages are lost until Redis keeps up"
                    );
                }
            }
        }
    }

    /// The local connections' interest in `interest` may have changed.
    pub(crate) fn interest_changed(&self, interest: Interest) {
        self.ensure_started();
        let c = &self.shared.control;
        // While disconnected nothing is recorded: the reconnect subscribes to everything
        // needed at that time (the broker's state was updated before this call).
        if !c.connected.load(Ordering::SeqCst) {
            return;
        }
        c.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(interest);
        c.wake.notify_one();
    }

    /// How many replicas the last push or sync to `group` reached (`None`: none sent yet,
    /// or the last one could not be sent).
    pub(crate) fn reach(&self, group: &str) -> Option<usize> {
        let reach = self
            .shared
            .control
            .reach
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        reach.get(group).copied()
    }
}

impl fmt::Debug for RedisFanout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisFanout")
            .field("instance", &self.instance_id())
            .field("connector", self.connector())
            .field("metrics", &self.metrics())
            .finish()
    }
}

/// The publisher task: batches of queued messages as pipelined `PUBLISH`es.
async fn publisher(control: Arc<Control>, mut rx: mpsc::Receiver<Message>) {
    // Lost count when the current outage started.
    let mut outage: Option<u64> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        let counters = &control.counters;
        match publish_batch(&control, &batch).await {
            Ok(reached) => {
                counters.published.fetch_add(n, Ordering::Relaxed);
                record_reach(&control, &batch, Some(&reached));
                if let Some(before) = outage.take() {
                    let lost = counters.lost.load(Ordering::Relaxed) - before;
                    tracing::info!(
                        event = "fanout_publish_restored",
                        lost,
                        addr = %control.connector.addr(),
                        "publishing to the other replicas again; {lost} message(s) were lost meanwhile"
                    );
                }
            }
            Err(error) => {
                let before = counters.lost.fetch_add(n, Ordering::Relaxed);
                record_reach(&control, &batch, None);
                if outage.is_none() {
                    outage = Some(before);
                    tracing::warn!(
                        event = "fanout_publish_failed",
                        %error,
                        addr = %control.connector.addr(),
                        "cannot publish to the other replicas: local connections still get every update, \
                         the other replicas miss them until Redis is back"
                    );
                } else {
                    tracing::debug!(%error, messages = n, "publish to the other replicas failed");
                }
            }
        }
        batch.clear();
    }
}

/// Send one batch; one quick retry when the connection had just broken.
async fn publish_batch(control: &Control, batch: &[Message]) -> RedisResult<Vec<i64>> {
    let mut pipe = ::redis::pipe();
    for m in batch {
        pipe.cmd("PUBLISH").arg(&m.channel).arg(&m.payload[..]);
    }
    let mut retried = false;
    loop {
        let result = match control.connector.connection().await {
            Ok(mut conn) => pipe.query_async::<Vec<i64>>(&mut conn).await,
            Err(e) => Err(e),
        };
        match result {
            Err(e) if !retried && is_transient(&e) => {
                retried = true;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

fn record_reach(control: &Control, batch: &[Message], reached: Option<&[i64]>) {
    if batch.iter().all(|m| m.group.is_none()) {
        return;
    }
    let mut reach = control.reach.lock().unwrap_or_else(PoisonError::into_inner);
    if reach.len() > MAX_REACH_ENTRIES {
        reach.clear();
    }
    for (i, m) in batch.iter().enumerate() {
        let Some(group) = &m.group else { continue };
        match reached.and_then(|r| r.get(i)) {
            Some(&n) => {
                reach.insert(group.clone(), usize::try_from(n).unwrap_or(0));
            }
            None => {
                reach.remove(group);
            }
        }
    }
}

/// Why a subscription session ended.
enum SessionEnd {
    Shutdown,
    Lost(String),
}

/// The subscriber task: connect, subscribe, receive; again after a loss.
async fn subscriber(control: Arc<Control>, mut shutdown: watch::Receiver<()>) {
    let mut dedup = Dedup::default();
    let mut delay = control.retry_min;
    let mut ever_connected = false;
    let mut failure_logged = false;
    loop {
        let client = control.connector.client().clone();
        let connect = tokio::time::timeout(
            control.connector.connection_timeout(),
            client.get_async_pubsub(),
        );
        let outcome = tokio::select! {
            _ = shutdown.changed() => return,
            r = connect => r,
        };
        let error = match outcome {
            Ok(Ok(pubsub)) => {
                delay = control.retry_min;
                failure_logged = false;
                let restored = ever_connected;
                ever_connected = true;
                match session(&control, pubsub, &mut dedup, &mut shutdown, restored).await {
                    SessionEnd::Shutdown => return,
                    SessionEnd::Lost(why) => why,
                }
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "connection timed out".to_string(),
        };
        control.connected.store(false, Ordering::SeqCst);
        control.counters.channels.store(0, Ordering::Relaxed);
        if !failure_logged {
            failure_logged = true;
            tracing::warn!(
                event = "fanout_subscription_lost",
                error = %error,
                addr = %control.connector.addr(),
                "not receiving from the other replicas; reconnecting"
            );
        } else {
            tracing::debug!(error = %error, retry_in_ms = delay.as_millis() as u64, "fan-out reconnect failed");
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(control.retry_max);
    }
}

/// One connected pub/sub session.
async fn session(
    control: &Control,
    pubsub: ::redis::aio::PubSub,
    dedup: &mut Dedup,
    shutdown: &mut watch::Receiver<()>,
    restored: bool,
) -> SessionEnd {
    let (mut sink, mut stream) = pubsub.split();
    let mut subscribed: HashSet<(String, bool)> = HashSet::new();
    // Connected first, then read what is needed: a change made after that read is
    // recorded as pending (see `RedisFanout::interest_changed`).
    control.connected.store(true, Ordering::SeqCst);
    control
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    let all = control.local().map(|l| l.interests()).unwrap_or_default();
    if let Err(e) = reconcile(control, &mut sink, &mut subscribed, all).await {
        return SessionEnd::Lost(e.to_string());
    }
    if restored {
        control.counters.restored.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            event = "fanout_subscription_restored",
            channels = subscribed.len(),
            addr = %control.connector.addr(),
            "receiving from the other replicas again"
        );
    } else {
        tracing::debug!(channels = subscribed.len(), "fan-out subscribed");
    }
    let mut ping = tokio::time::interval(control.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return SessionEnd::Shutdown,
            msg = stream.next() => match msg {
                Some(msg) => receive(control, dedup, &msg),
                None => return SessionEnd::Lost("connection closed".into()),
            },
            () = control.wake.notified() => {
                let changed: Vec<Interest> = control
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain()
                    .collect();
                if let Err(e) = reconcile(control, &mut sink, &mut subscribed, changed).await {
                    return SessionEnd::Lost(e.to_string());
                }
            }
            _ = ping.tick() => {
                let answer = tokio::time::timeout(
                    control.connector.response_timeout(),
                    sink.ping::<::redis::Value>(),
                )
                .await;
                match answer {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return SessionEnd::Lost(e.to_string()),
                    Err(_) => return SessionEnd::Lost("ping timed out".into()),
                }
            }
        }
    }
}

/// Bring the subscriptions of `interests` in line with what the local side wants now.
async fn reconcile(
    control: &Control,
    sink: &mut PubSubSink,
    subscribed: &mut HashSet<(String, bool)>,
    interests: Vec<Interest>,
) -> Result<(), RedisError> {
    let Some(local) = control.local() else {
        return Ok(());
    };
    let (mut sub, mut psub, mut unsub, mut punsub) = (vec![], vec![], vec![], vec![]);
    for interest in &interests {
        let (channel, pattern) = control.channels.of(interest);
        let key = (channel, pattern);
        let want = local.wants(interest);
        let have = subscribed.contains(&key);
        let list = match (want, have, pattern) {
            (true, false, false) => &mut sub,
            (true, false, true) => &mut psub,
            (false, true, false) => &mut unsub,
            (false, true, true) => &mut punsub,
            _ => continue,
        };
        if want {
            subscribed.insert(key.clone());
        } else {
            subscribed.remove(&key);
        }
        list.push(key.0);
    }
    for chunk in sub.chunks(MAX_SUBSCRIBE_BATCH) {
        sink.subscribe(chunk).await?;
    }
    for chunk in psub.chunks(MAX_SUBSCRIBE_BATCH) {
        sink.psubscribe(chunk).await?;
    }
    for chunk in unsub.chunks(MAX_SUBSCRIBE_BATCH) {
        sink.unsubscribe(chunk).await?;
    }
    for chunk in punsub.chunks(MAX_SUBSCRIBE_BATCH) {
        sink.punsubscribe(chunk).await?;
    }
    control
        .counters
        .channels
        .store(subscribed.len(), Ordering::Relaxed);
    Ok(())
}

/// One received message: check, de-duplicate, deliver.
fn receive(control: &Control, dedup: &mut Dedup, msg: &Msg) {
    let counters = &control.counters;
    let channel = msg.get_channel_name();
    let decoded = match decode(&control.channels, channel, msg.get_payload_bytes()) {
        Ok(d) => d,
        Err(e) => {
            counters.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(event = "fanout_message_malformed", channel, error = %e, "dropped a message from Redis");
            return;
        }
    };
    if decoded.instance == control.instance {
        return;
    }
    if !dedup.first_time(&decoded.instance, decoded.seq) {
        counters.duplicates.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Some(local) = control.local() {
        counters.received.fetch_add(1, Ordering::Relaxed);
        local.deliver_remote(decoded.message);
    }
}
