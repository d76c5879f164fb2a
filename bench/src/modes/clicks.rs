//! Click round trips: C clickers, each on its own connection, send a click, wait for the reply carrying
//! `meta.action`, and repeat; a warm-up phase is excluded from the figures.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::{click_message, ws_wire_bytes, Session};
use crate::modes::{close_all, open_many};
use crate::stats::{ByteStats, Histogram, Summary};
use crate::target::Target;
use crate::BenchError;

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Measure for this long after the warm-up.
    Duration(Duration),
    /// Measure this many clicks in total (split evenly between clickers), bounded by a wall-clock cap.
    Clicks {
        /// Total measured clicks.
        total: u64,
        /// Hard cap on the measured phase; the run stops (and says so) when it is reached.
        max_time: Duration,
    },
}

/// Settings of one clicks run.
#[derive(Debug, Clone)]
pub struct ClicksConfig {
    /// Concurrent clickers (one connection each).
    pub clickers: usize,
    /// When to stop.
    pub limit: Limit,
    /// Clicks sent before this much time has passed are not measured.
    pub warmup: Duration,
    /// The action name the click carries (`{"action":A,"data":{},"submitter":A}`).
    pub action: String,
    /// Per-operation timeout (connect, each reply).
    pub timeout: Duration,
    /// How many connections are opened at once before the run.
    pub connect_concurrency: usize,
}

/// Results of one clicks run.
#[derive(Debug, Clone, Serialize)]
pub struct ClicksReport {
    /// Concurrent clickers.
    pub clickers: usize,
    /// Measured clicks.
    pub clicks: u64,
    /// Clicks sent during the warm-up (not measured).
    pub warmup_clicks: u64,
    /// Length of the measured phase in seconds.
    pub elapsed_s: f64,
    /// Measured clicks per second, all clickers together.
    pub clicks_per_s: f64,
    /// Round trip of a click, microseconds.
    pub rtt: Summary,
    /// Client → server payload bytes per click.
    pub up_bytes: ByteStats,
    /// Server → client payload bytes per click reply.
    pub down_bytes: ByteStats,
    /// Client → server bytes per click on the wire (masked frame header included), mean.
    pub up_wire_bytes_mean: f64,
    /// Server → client bytes per reply on the wire (frame header included), mean.
    pub down_wire_bytes_mean: f64,
    /// Frames received between a click and its reply that were not the reply (pushes, stray pongs).
    pub skipped_frames: u64,
    /// `__ping__` round trip measured once per clicker before the run, microseconds.
    pub ping: Summary,
    /// True when a click-count run hit its wall-clock cap before reaching the count.
    pub capped: bool,
}

struct ClickerResult {
    rtt: Histogram,
    up: ByteStats,
    down: ByteStats,
    up_wire: u64,
    down_wire: u64,
    warmup_clicks: u64,
    last_done: Option<Instant>,
    capped: bool,
}

/// Connects the clickers, checks each answers `__ping__`, then runs the clicks.
pub async fn run(target: &Target, cfg: &ClicksConfig) -> Result<ClicksReport, BenchError> {
    if cfg.clickers == 0 {
        return Err(BenchError::Usage("at least one clicker is needed".into()));
    }
    let sessions = open_many(target, cfg.clickers, cfg.connect_concurrency, cfg.timeout).await?;
    let mut ping = Histogram::new();
    let mut ready = Vec::with_capacity(sessions.len());
    for (mut s, _) in sessions {
        match s.ping().await {
            Ok(d) => {
                ping.record(d);
                ready.push(s);
            }
            Err(e) => {
                close_all(ready, cfg.connect_concurrency).await;
                return Err(e);
            }
        }
    }

    let message = click_message(&cfg.action);
    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let measure_until = match cfg.limit {
        Limit::Duration(d) => measure_from + d,
        Limit::Clicks { max_time, .. } => measure_from + max_time,
    };
    let n = ready.len() as u64;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, session) in ready.into_iter().enumerate() {
        let share = match cfg.limit {
            Limit::Clicks { total, .. } => Some(total / n + u64::from((i as u64) < total % n)),
            Limit::Duration(_) => None,
        };
        let (message, action) = (message.clone(), cfg.action.clone());
        tasks.spawn(async move {
            clicker(
                session,
                &message,
                &action,
                share,
                measure_from,
                measure_until,
            )
            .await
            .map_err(|e| (i, e))
        });
    }

    let mut rtt = Histogram::new();
    let (mut up, mut down) = (ByteStats::default(), ByteStats::default());
    let (mut up_wire, mut down_wire, mut warmup_clicks, mut skipped) = (0u64, 0u64, 0u64, 0u64);
    let mut last_done: Option<Instant> = None;
    let mut capped = false;
    let mut finished = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (r, session) = match joined {
            Ok(Ok(done)) => done,
            Ok(Err((i, e))) => {
                tasks.abort_all();
                return Err(BenchError::Clicker {
                    index: i,
                    source: Box::new(e),
                });
            }
            Err(e) => {
                tasks.abort_all();
                return Err(BenchError::Task(e.to_string()));
            }
        };
        rtt.merge(&r.rtt);
        up.merge(&r.up);
        down.merge(&r.down);
        up_wire += r.up_wire;
        down_wire += r.down_wire;
        warmup_clicks += r.warmup_clicks;
        skipped += session.skipped_frames;
        capped |= r.capped;
        last_done = last_done.max(r.last_done);
        finished.push(session);
    }
    close_all(finished, cfg.connect_concurrency).await;

    let elapsed = match cfg.limit {
        Limit::Duration(d) => d,
        Limit::Clicks { .. } => last_done.map_or(Duration::ZERO, |t| {
            t.saturating_duration_since(measure_from)
        }),
    };
    let clicks = rtt.len() as u64;
    let secs = elapsed.as_secs_f64();
    let mean = |total: u64| {
        if clicks == 0 {
            0.0
        } else {
            total as f64 / clicks as f64
        }
    };
    Ok(ClicksReport {
        clickers: cfg.clickers,
        clicks,
        warmup_clicks,
        elapsed_s: secs,
        clicks_per_s: if secs > 0.0 {
            clicks as f64 / secs
        } else {
            0.0
        },
        rtt: rtt.summary(),
        up_bytes: up,
        down_bytes: down,
        up_wire_bytes_mean: mean(up_wire),
        down_wire_bytes_mean: mean(down_wire),
        skipped_frames: skipped,
        ping: ping.summary(),
        capped,
    })
}

async fn clicker(
    mut session: Session,
    message: &str,
    action: &str,
    share: Option<u64>,
    measure_from: Instant,
    measure_until: Instant,
) -> Result<(ClickerResult, Session), BenchError> {
    let mut r = ClickerResult {
        rtt: Histogram::new(),
        up: ByteStats::default(),
        down: ByteStats::default(),
        up_wire: 0,
        down_wire: 0,
        warmup_clicks: 0,
        last_done: None,
        capped: false,
    };
    loop {
        if share.is_some_and(|s| r.rtt.len() as u64 >= s) {
            break;
        }
        let sent = Instant::now();
        if sent >= measure_until {
            r.capped = share.is_some();
            break;
        }
        let out = session.click(message, action).await?;
        let done = Instant::now();
        if sent < measure_from {
            r.warmup_clicks += 1;
            continue;
        }
        if share.is_none() && done > measure_until {
            // Straddles the end of a timed run: not counted.
            break;
        }
        r.rtt.record(out.rtt);
        r.up.add(out.sent_bytes as u64);
        r.down.add(out.reply_bytes as u64);
        r.up_wire += ws_wire_bytes(out.sent_bytes, true) as u64;
        r.down_wire += ws_wire_bytes(out.reply_bytes, false) as u64;
        r.last_done = Some(done);
    }
    Ok((r, session))
}
