//! Counting running tasks so that a shutdown can wait for them: a [`Tracker`] hands out
//! [`Guard`]s, and [`Tracker::wait_idle`] returns once every guard has been dropped.

use tokio::sync::watch;

/// Counts live guards; cheap to clone (clones count together).
#[derive(Clone, Debug)]
pub(crate) struct Tracker(watch::Sender<usize>);

/// Held by a task for its whole life; dropping it counts the task as done.
#[derive(Debug)]
pub(crate) struct Guard(watch::Sender<usize>);

impl Default for Tracker {
    fn default() -> Tracker {
        Tracker(watch::Sender::new(0))
    }
}

impl Tracker {
    /// Count one more task until the guard is dropped.
    pub(crate) fn track(&self) -> Guard {
        self.0.send_modify(|n| *n += 1);
        Guard(self.0.clone())
    }

    /// Count one more task unless `max` are counted already (atomic: concurrent calls
    /// never exceed `max`).
    pub(crate) fn try_track(&self, max: usize) -> Option<Guard> {
        let admitted = self.0.send_if_modified(|n| {
            if *n < max {
                *n += 1;
                true
            } else {
                false
            }
        });
        admitted.then(|| Guard(self.0.clone()))
    }

    /// Tasks currently counted.
    pub(crate) fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Wait until no task is counted.
    pub(crate) async fn wait_idle(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn waits_until_every_guard_is_dropped() {
        let tracker = Tracker::default();
        tracker.wait_idle().await;
        let a = tracker.track();
        let b = tracker.clone().track();
        assert_eq!(tracker.count(), 2);
        let waiting = tokio::spawn({
            let t = tracker.clone();
            async move { t.wait_idle().await }
        });
        drop(a);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "one guard is still alive");
        drop(b);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("idle once both guards are gone")
            .expect("task ran");
        assert_eq!(tracker.count(), 0);
    }

    #[test]
    fn try_track_stops_at_the_limit() {
        let tracker = Tracker::default();
        let a = tracker.try_track(2).expect("first");
        let _b = tracker.try_track(2).expect("second");
        assert!(tracker.try_track(2).is_none(), "a third is over the limit");
        assert_eq!(tracker.count(), 2);
        drop(a);
        assert!(tracker.try_track(2).is_some(), "room again");
    }
}
