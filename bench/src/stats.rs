//! Latency histogram (exact: a sorted vector of microsecond samples) and byte counters.

use std::time::Duration;

use serde::Serialize;

/// Exact latency recorder: every sample is kept as whole microseconds (saturating at `u32::MAX`, ~71 minutes).
///
/// Four bytes per sample, so ten million clicks cost 40 MB; the runs this tool does are far below that.
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    samples: Vec<u32>,
    sorted: bool,
}

/// Summary of a histogram, all times in microseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample.
    pub min_us: u32,
    /// Median (nearest rank).
    pub p50_us: u32,
    /// 90th percentile (nearest rank).
    pub p90_us: u32,
    /// 99th percentile (nearest rank).
    pub p99_us: u32,
    /// 99.9th percentile (nearest rank).
    pub p999_us: u32,
    /// Largest sample.
    pub max_us: u32,
    /// Arithmetic mean.
    pub mean_us: f64,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one duration.
    pub fn record(&mut self, d: Duration) {
        self.record_us(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    /// Records one sample given in microseconds.
    pub fn record_us(&mut self, us: u32) {
        self.samples.push(us);
        self.sorted = false;
    }

    /// Appends all samples of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        self.samples.extend_from_slice(&other.samples);
        self.sorted = false;
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.samples.sort_unstable();
            self.sorted = true;
        }
    }

    /// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest sample such that at least
    /// `p`% of the samples are ≤ it. `None` when empty or `p` is out of range.
    pub fn percentile(&mut self, p: f64) -> Option<u32> {
        if self.samples.is_empty() || !(p > 0.0 && p <= 100.0) {
            return None;
        }
        self.sort();
        let n = self.samples.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.samples.get(rank.clamp(1, n) - 1).copied()
    }

    /// Count, min, p50, p90, p99, p99.9, max and mean (all zero when empty).
    pub fn summary(&mut self) -> Summary {
        if self.samples.is_empty() {
            return Summary::default();
        }
        self.sort();
        let sum: u64 = self.samples.iter().map(|&s| u64::from(s)).sum();
        let mut pct = |p| self.percentile(p).unwrap_or(0);
        let (p50, p90, p99, p999) = (pct(50.0), pct(90.0), pct(99.0), pct(99.9));
        Summary {
            count: self.samples.len() as u64,
            min_us: self.samples[0],
            p50_us: p50,
            p90_us: p90,
            p99_us: p99,
            p999_us: p999,
            max_us: self.samples[self.samples.len() - 1],
            mean_us: sum as f64 / self.samples.len() as f64,
        }
    }
}

/// Running min/max/sum of byte sizes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct ByteStats {
    /// Number of values added.
    pub count: u64,
    /// Sum of all values.
    pub total: u64,
    /// Smallest value (0 when empty).
    pub min: u64,
    /// Largest value.
    pub max: u64,
}

impl ByteStats {
    /// Adds one value.
    pub fn add(&mut self, bytes: u64) {
        self.min = if self.count == 0 {
            bytes
        } else {
            self.min.min(bytes)
        };
        self.max = self.max.max(bytes);
        self.total += bytes;
        self.count += 1;
    }

    /// Combines two counters.
    pub fn merge(&mut self, other: &ByteStats) {
        if other.count == 0 {
            return;
        }
        self.min = if self.count == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = self.max.max(other.max);
        self.total += other.total;
        self.count += other.count;
    }

    /// Mean value (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total as f64 / self.count as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut h = Histogram::new();
        // Recorded out of order on purpose.
        for v in (1..=100u32).rev() {
            h.record_us(v);
        }
        assert_eq!(h.percentile(50.0), Some(50));
        assert_eq!(h.percentile(99.0), Some(99));
        assert_eq!(h.percentile(99.5), Some(100));
        assert_eq!(h.percentile(100.0), Some(100));
        assert_eq!(h.percentile(1.0), Some(1));
        assert_eq!(h.percentile(0.5), Some(1));
        assert_eq!(h.percentile(0.0), None);
        assert_eq!(h.percentile(101.0), None);
        assert_eq!(h.percentile(f64::NAN), None);
    }

    #[test]
    fn small_and_skewed_sets() {
        let mut h = Histogram::new();
        assert_eq!(h.percentile(50.0), None);
        assert_eq!(h.summary(), Summary::default());
        h.record_us(7);
        assert_eq!(h.percentile(50.0), Some(7));
        assert_eq!(h.percentile(99.0), Some(7));
        // 98 fast samples and 2 slow ones: p99 must see the slow tail, p50 must not.
        let mut h = Histogram::new();
        for _ in 0..98 {
            h.record_us(10);
        }
        h.record_us(5000);
        h.record_us(9000);
        let s = h.summary();
        assert_eq!(
            (s.count, s.min_us, s.p50_us, s.p99_us, s.max_us),
            (100, 10, 10, 5000, 9000)
        );
        assert!((s.mean_us - (980.0 + 14000.0) / 100.0).abs() < 1e-9);
    }

    #[test]
    fn merge_and_record_duration() {
        let mut a = Histogram::new();
        a.record(Duration::from_millis(3));
        a.record(Duration::from_secs(u64::MAX / 2)); // saturates
        let mut b = Histogram::new();
        b.record(Duration::from_micros(1));
        b.merge(&a);
        assert_eq!(b.len(), 3);
        let s = b.summary();
        assert_eq!((s.min_us, s.p50_us, s.max_us), (1, 3000, u32::MAX));
        // Recording after a summary keeps results sorted.
        b.record_us(2);
        assert_eq!(b.percentile(50.0), Some(2));
    }

    #[test]
    fn byte_stats() {
        let mut a = ByteStats::default();
        assert_eq!(a.mean(), 0.0);
        a.add(10);
        a.add(30);
        let mut b = ByteStats::default();
        b.merge(&a);
        b.add(5);
        assert_eq!((b.count, b.total, b.min, b.max), (3, 45, 5, 30));
        assert_eq!(b.mean(), 15.0);
    }
}
