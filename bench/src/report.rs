//! Human-readable tables and the one-line JSON record.

use std::fmt::Write as _;

use serde::Serialize;

use crate::modes::clicks::ClicksReport;
use crate::modes::connect::ConnectReport;
use crate::modes::fanout::FanoutReport;
use crate::modes::idle::IdleReport;

/// One JSON line describing a run: what was measured, against what, with which command, and the figures.
#[derive(Debug, Serialize)]
pub struct Record<'a, T: Serialize> {
    /// Mode name.
    pub mode: &'a str,
    /// The command line (program name and arguments).
    pub command: String,
    /// Page URL measured.
    pub target: String,
    /// How the server was obtained: `spawn: <cmd>`, `pid <n>` or `external`.
    pub server: String,
    /// Results, one per configuration.
    pub results: &'a [T],
}

/// Joins a command line, quoting arguments that contain spaces or quotes.
pub fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'', '\t']) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "-".into(),
        |b| format!("{:.1}", b as f64 / (1024.0 * 1024.0)),
    )
}

/// Table of clicks runs.
pub fn clicks_table(rows: &[ClicksReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>8} {:>9} {:>11} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>12}",
        "clickers",
        "clicks",
        "clicks/s",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "max µs",
        "ping µs",
        "up B/wire",
        "down B/wire"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:>8} {:>9} {:>11.1} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>12}{}",
            r.clickers,
            r.clicks,
            r.clicks_per_s,
            r.rtt.p50_us,
            r.rtt.p90_us,
            r.rtt.p99_us,
            r.rtt.max_us,
            r.ping.p50_us,
            format!("{:.0}/{:.0}", r.up_bytes.mean(), r.up_wire_bytes_mean),
            format!("{:.0}/{:.0}", r.down_bytes.mean(), r.down_wire_bytes_mean),
            if r.capped {
                "  (stopped by --max-time)"
            } else {
                ""
            }
        );
    }
    out
}

/// Table of idle runs.
pub fn idle_table(rows: &[IdleReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>11} {:>8} {:>9} {:>14} {:>13} {:>12} {:>14} {:>13}",
        "connections",
        "open s",
        "conn/s",
        "rss before MiB",
        "rss after MiB",
        "bytes/conn",
        "conn p99 µs",
        "first frame B"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:>11} {:>8.2} {:>9.0} {:>14} {:>13} {:>12} {:>14} {:>13.0}",
            r.connections,
            r.open_s,
            r.connects_per_s,
            mib(r.rss_before),
            mib(r.rss_after),
            r.rss_per_connection
                .map_or_else(|| "-".into(), |b| format!("{b:.0}")),
            r.connect.p99_us,
            r.first_frame_bytes.mean(),
        );
    }
    out
}

/// Table of a connect run.
pub fn connect_table(r: &ConnectReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:>26}  {:>17}  {:>21}  {:>13}",
        "count",
        "GET→first frame p50/p99 µs",
        "GET p50/p99 µs",
        "upgrade→frame p50/p99",
        "first frame B"
    );
    let _ = writeln!(
        out,
        "{:>6}  {:>26}  {:>17}  {:>21}  {:>13.0}",
        r.count,
        format!("{}/{}", r.total.p50_us, r.total.p99_us),
        format!("{}/{}", r.get.p50_us, r.get.p99_us),
        format!("{}/{}", r.upgrade.p50_us, r.upgrade.p99_us),
        r.first_frame_bytes.mean(),
    );
    out
}

fn opt_us(v: Option<u32>) -> String {
    v.map_or_else(|| "-".into(), |us| us.to_string())
}

/// Table of fan-out runs: "all patched" (publish → last subscriber) over the complete rounds, and individual
/// subscriber latencies pooled over all rounds.
pub fn fanout_table(rows: &[FanoutReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>11} {:>9} {:>25} {:>19} {:>7} {:>6} {:>14} {:>7}",
        "subscribers",
        "complete",
        "all patched p50/p99/max",
        "subscriber p50/p99",
        "missed",
        "stray",
        "reply p50 µs",
        "open s"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:>11} {:>9} {:>25} {:>19} {:>7} {:>6} {:>14} {:>7.2}",
            r.subscribers,
            format!("{}/{}", r.complete_rounds, r.rounds),
            format!(
                "{}/{}/{} µs",
                opt_us(r.all_patched_median_us),
                opt_us(r.all_patched_p99_us),
                opt_us(r.all_patched_max_us)
            ),
            format!("{}/{} µs", r.latency.p50_us, r.latency.p99_us),
            r.missed,
            r.stray_pushes,
            r.reply.p50_us,
            r.open_s,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quoting() {
        let args: Vec<String> = ["bench", "idle", "--spawn", "sh", "-c", "exec ./server"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            command_line(&args),
            "bench idle --spawn sh -c 'exec ./server'"
        );
        assert_eq!(command_line(&["it's".into()]), r"'it'\''s'");
    }
}
