//! De-duplication of received messages by `(instance, seq)`.
//!
//! A replica subscribed to `room/1` and to `room/*` receives a publish to `room/1`
//! twice (once per matching subscription), one right after the other. Each sending
//! instance numbers its messages from 1, and Redis keeps one sender's order, so a
//! window of the most recent sequence numbers per instance is enough.

use std::collections::HashMap;

/// Sequence numbers remembered per instance, below the highest seen.
const WINDOW: u64 = 1024;
/// Instances remembered; the least recently heard one is forgotten beyond this.
const MAX_INSTANCES: usize = 4096;

#[derive(Debug)]
struct Seen {
    /// Highest sequence number seen.
    top: u64,
    /// Bit `i` set: `top - i` was seen (bit 0 is `top`).
    bits: [u64; (WINDOW / 64) as usize],
    /// When this instance was last heard from (a counter, for eviction).
    heard: u64,
}

impl Seen {
    fn new(seq: u64, heard: u64) -> Seen {
        let mut s = Seen {
            top: seq,
            bits: [0; (WINDOW / 64) as usize],
            heard,
        };
        s.set(0);
        s
    }

    fn set(&mut self, offset: u64) {
        self.bits[(offset / 64) as usize] |= 1 << (offset % 64);
    }

    fn get(&self, offset: u64) -> bool {
        self.bits[(offset / 64) as usize] & (1 << (offset % 64)) != 0
    }

    /// Move the window up by `by` positions.
    fn shift(&mut self, by: u64) {
        if by >= WINDOW {
            self.bits = [0; (WINDOW / 64) as usize];
            return;
        }
        let words = (by / 64) as usize;
        let bits = by % 64;
        let n = self.bits.len();
        for i in (0..n).rev() {
            let src = i.checked_sub(words);
            let hi = src.map_or(0, |s| self.bits[s] << bits);
            let lo = match src.and_then(|s| s.checked_sub(1)) {
                Some(s) if bits > 0 => self.bits[s] >> (64 - bits),
                _ => 0,
            };
            self.bits[i] = hi | lo;
        }
    }
}

/// Which `(instance, seq)` pairs were already delivered.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    instances: HashMap<String, Seen>,
    clock: u64,
}

impl Dedup {
    /// Record `(instance, seq)`; `true` the first time, `false` for a duplicate (or a
    /// message too old to tell, which is dropped too).
    pub(crate) fn first_time(&mut self, instance: &str, seq: u64) -> bool {
        self.clock += 1;
        let clock = self.clock;
        if let Some(seen) = self.instances.get_mut(instance) {
            seen.heard = clock;
            if seq > seen.top {
                seen.shift(seq - seen.top);
                seen.top = seq;
                seen.set(0);
                return true;
            }
            let offset = seen.top - seq;
            if offset >= WINDOW || seen.get(offset) {
                return false;
            }
            seen.set(offset);
            return true;
        }
        if self.instances.len() >= MAX_INSTANCES {
            let oldest = self
                .instances
                .iter()
                .min_by_key(|(_, s)| s.heard)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.instances.remove(&k);
            }
        }
        self.instances
            .insert(instance.to_string(), Seen::new(seq, clock));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_caught_per_instance() {
        let mut d = Dedup::default();
        assert!(d.first_time("a", 1));
        assert!(!d.first_time("a", 1));
        assert!(d.first_time("b", 1));
        assert!(d.first_time("a", 2));
        assert!(!d.first_time("a", 2));
        assert!(!d.first_time("a", 1));
        // Out of order within the window: each once.
        assert!(d.first_time("a", 10));
        assert!(d.first_time("a", 5));
        assert!(!d.first_time("a", 5));
        assert!(!d.first_time("a", 10));
    }

    #[test]
    fn the_window_slides_across_word_boundaries() {
        let mut d = Dedup::default();
        for seq in 1..=5000 {
            assert!(d.first_time("x", seq), "first {seq}");
            assert!(!d.first_time("x", seq), "again {seq}");
            if seq > 70 {
                assert!(!d.first_time("x", seq - 70), "old {seq}");
            }
        }
        // Far jumps clear the window; anything older than it is refused.
        assert!(d.first_time("x", 100_000));
        assert!(!d.first_time("x", 100_000 - WINDOW));
        assert!(d.first_time("x", 100_000 - WINDOW + 1));
    }

    #[test]
    fn a_gap_keeps_the_unseen_numbers_open() {
        let mut d = Dedup::default();
        assert!(d.first_time("x", 1));
        assert!(d.first_time("x", 200));
        for seq in 2..200 {
            assert!(d.first_time("x", seq), "{seq}");
        }
        assert!(!d.first_time("x", 130));
    }

    #[test]
    fn old_instances_are_forgotten() {
        let mut d = Dedup::default();
        for i in 0..MAX_INSTANCES + 10 {
            assert!(d.first_time(&format!("i{i}"), 1));
        }
        assert!(d.instances.len() <= MAX_INSTANCES);
        // The most recent ones are still remembered.
        assert!(!d.first_time(&format!("i{}", MAX_INSTANCES + 9), 1));
    }
}
