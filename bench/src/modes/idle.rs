//! Server memory per idle connection: resident memory of the server process before and after opening N
//! connections that each did the GET, the upgrade and received the first frame.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::modes::{close_all, open_many};
use crate::server::read_rss;
use crate::stats::{ByteStats, Histogram, Summary};
use crate::target::Target;
use crate::BenchError;

/// Settings of one idle run.
#[derive(Debug, Clone)]
pub struct IdleConfig {
    /// Connections to open and hold.
    pub connections: usize,
    /// Connections opened at once.
    pub concurrency: usize,
    /// Connections opened and closed before the "before" reading, so one-time allocations (first request,
    /// worker threads, caches) are not charged to the measured connections.
    pub warmup_connections: usize,
    /// Wait after opening (and after the warm-up) before reading the resident memory.
    pub settle: Duration,
    /// Per-operation timeout.
    pub timeout: Duration,
    /// Process whose resident memory is read; `None` reports connection figures only.
    pub server_pid: Option<u32>,
}

/// Results of one idle run.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    /// Connections opened and held.
    pub connections: usize,
    /// Time to open them all, seconds.
    pub open_s: f64,
    /// Connections opened per second.
    pub connects_per_s: f64,
    /// Connect-to-first-frame latency of these connections (concurrent, so not the sequential figure),
    /// microseconds.
    pub connect: Summary,
    /// Payload bytes of the first frame.
    pub first_frame_bytes: ByteStats,
    /// Server resident memory before opening, bytes.
    pub rss_before: Option<u64>,
    /// Server resident memory with all connections open, bytes.
    pub rss_after: Option<u64>,
    /// `(after − before) / connections`, bytes (negative if the server returned memory meanwhile).
    pub rss_per_connection: Option<f64>,
}

/// Runs the idle measurement.
pub async fn run(target: &Target, cfg: &IdleConfig) -> Result<IdleReport, BenchError> {
    if cfg.connections == 0 {
        return Err(BenchError::Usage(
            "at least one connection is needed".into(),
        ));
    }
    let rss = |pid: Option<u32>| pid.map(read_rss).transpose();
    if cfg.warmup_connections > 0 {
        let warm = open_many(target, cfg.warmup_connections, cfg.concurrency, cfg.timeout).await?;
        close_all(warm.into_iter().map(|(s, _)| s).collect(), cfg.concurrency).await;
    }
    if cfg.server_pid.is_some() {
        tokio::time::sleep(cfg.settle).await;
    }
    let rss_before = rss(cfg.server_pid)?;

    let start = Instant::now();
    let opened = open_many(target, cfg.connections, cfg.concurrency, cfg.timeout).await?;
    let open_time = start.elapsed();
    let mut connect = Histogram::new();
    let mut first = ByteStats::default();
    let mut sessions = Vec::with_capacity(opened.len());
    for (s, t) in opened {
        connect.record(t.total);
        first.add(s.first_frame_bytes as u64);
        sessions.push(s);
    }
    if cfg.server_pid.is_some() {
        tokio::time::sleep(cfg.settle).await;
    }
    let rss_after = match rss(cfg.server_pid) {
        Ok(r) => r,
        Err(e) => {
            close_all(sessions, cfg.concurrency).await;
            return Err(e);
        }
    };
    let held = sessions.len();
    close_all(sessions, cfg.concurrency).await;

    let secs = open_time.as_secs_f64();
    Ok(IdleReport {
        connections: held,
        open_s: secs,
        connects_per_s: if secs > 0.0 { held as f64 / secs } else { 0.0 },
        connect: connect.summary(),
        first_frame_bytes: first,
        rss_before,
        rss_after,
        rss_per_connection: match (rss_before, rss_after) {
            (Some(b), Some(a)) => Some((a as f64 - b as f64) / held as f64),
            _ => None,
        },
    })
}
