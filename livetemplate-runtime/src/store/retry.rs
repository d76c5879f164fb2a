//! Retry policy of network-backed stores: a few attempts with exponentially growing pauses.

use std::time::Duration;

/// Exponential backoff: after a failed attempt wait `initial_delay`, then twice that, and so
/// on (capped at `max_delay`), for at most `retries` retries.
///
/// The default, 3 retries from 100 ms, gives up after about 0.7 s of waiting.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use livetemplate_runtime::store::Backoff;
///
/// let backoff = Backoff::new(3, Duration::from_millis(100));
/// let delays: Vec<_> = backoff.delays().collect();
/// assert_eq!(
///     delays,
///     [Duration::from_millis(100), Duration::from_millis(200), Duration::from_millis(400)]
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// How many times a failed attempt is retried (0: try once).
    pub retries: u32,
    /// The pause before the first retry.
    pub initial_delay: Duration,
    /// The longest pause between two attempts.
    pub max_delay: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(3, Duration::from_millis(100))
    }
}

impl Backoff {
    /// `retries` retries, the first after `initial_delay`, each pause doubling, capped at
    /// 10 s.
    pub fn new(retries: u32, initial_delay: Duration) -> Backoff {
        Backoff {
            retries,
            initial_delay,
            max_delay: Duration::from_secs(10),
        }
    }

    /// No retries: one attempt only.
    pub fn none() -> Backoff {
        Backoff::new(0, Duration::ZERO)
    }

    /// The pauses before each retry, in order (`retries` items).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + '_ {
        (0..self.retries).map(|n| self.delay(n))
    }

    /// The pause before retry number `n` (0-based).
    fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n);
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }

    /// The most time spent waiting between attempts (not counting the attempts).
    pub fn total_delay(&self) -> Duration {
        self.delays().fold(Duration::ZERO, Duration::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_are_capped() {
        let b = Backoff {
            retries: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let d: Vec<u128> = b.delays().map(|d| d.as_millis()).collect();
        assert_eq!(d, [100, 200, 400, 500, 500]);
        assert_eq!(b.total_delay(), Duration::from_millis(1700));
    }

    #[test]
    fn huge_retry_counts_do_not_overflow() {
        let b = Backoff::new(200, Duration::from_secs(1));
        assert_eq!(b.delays().last(), Some(Duration::from_secs(10)));
    }

    #[test]
    fn none_means_one_attempt() {
        assert_eq!(Backoff::none().delays().count(), 0);
        assert_eq!(Backoff::default().retries, 3);
        assert_eq!(Backoff::default().initial_delay, Duration::from_millis(100));
    }
}
