//! Connect to first tree: sequential connects, each timed from starting the GET to receiving the first
//! WebSocket frame.

use std::time::Duration;

use serde::Serialize;

use crate::client::Session;
use crate::stats::{ByteStats, Histogram, Summary};
use crate::target::Target;
use crate::BenchError;

/// Settings of one connect run.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// Sequential connects to time.
    pub count: usize,
    /// Untimed connects done first.
    pub warmup: usize,
    /// Per-operation timeout.
    pub timeout: Duration,
}

/// Results of one connect run (all times in microseconds).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectReport {
    /// Timed connects.
    pub count: usize,
    /// GET start → first WebSocket frame.
    pub total: Summary,
    /// The GET alone.
    pub get: Summary,
    /// Upgrade start → first frame.
    pub upgrade: Summary,
    /// Payload bytes of the first frame.
    pub first_frame_bytes: ByteStats,
}

/// Runs `warmup + count` sequential connects, closing each before the next.
pub async fn run(target: &Target, cfg: &ConnectConfig) -> Result<ConnectReport, BenchError> {
    if cfg.count == 0 {
        return Err(BenchError::Usage("at least one connect is needed".into()));
    }
    let (mut total, mut get, mut upgrade) = (Histogram::new(), Histogram::new(), Histogram::new());
    let mut first = ByteStats::default();
    for i in 0..cfg.warmup + cfg.count {
        let (session, t) = Session::open(target, cfg.timeout).await?;
        if i >= cfg.warmup {
            total.record(t.total);
            get.record(t.get);
            upgrade.record(t.upgrade_to_first_frame);
            first.add(session.first_frame_bytes as u64);
        }
        session.close().await;
    }
    Ok(ConnectReport {
        count: cfg.count,
        total: total.summary(),
        get: get.summary(),
        upgrade: upgrade.summary(),
        first_frame_bytes: first,
    })
}
