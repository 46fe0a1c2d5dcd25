//! Whether anything happened that an idle poller should look at. devstack reads moto on behalf
//! of AWS services that watch for changes themselves (SQS depth metrics, executions, rule
//! deliveries), and every read costs moto's one Python process. So idle pollers wait for a
//! call that may have changed something (every write passing the edge, every send devstack
//! makes itself) instead of asking moto on a short timer. A rest stack then costs nothing.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Activity {
    changes: Arc<watch::Sender<u64>>,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            changes: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Activity {
    /// Something may have changed.
    pub fn touch(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn watch(&self) -> Watcher {
        Watcher {
            changes: self.changes.subscribe(),
        }
    }
}

/// One poller's view: what it has seen so far.
#[derive(Debug)]
pub struct Watcher {
    changes: watch::Receiver<u64>,
}

impl Watcher {
    /// Marks everything so far as seen: call it before reading, so a change during the read
    /// still ends the next wait.
    pub fn mark_seen(&mut self) {
        self.changes.borrow_and_update();
    }

    /// Waits for a change not yet seen, or `at_most`.
    pub async fn wait(&mut self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.changes.changed()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_during_the_read_ends_the_next_wait_at_once() {
        let activity = Activity::default();
        let mut watcher = activity.watch();
        watcher.mark_seen();
        activity.touch();

        let waited = tokio::time::timeout(
            Duration::from_secs(5),
            watcher.wait(Duration::from_hours(1)),
        )
        .await;

        assert!(
            waited.is_ok(),
            "the change seen after mark_seen ends the wait"
        );
    }

    #[tokio::test]
    async fn without_a_change_an_idle_poller_keeps_waiting() {
        let activity = Activity::default();
        let mut watcher = activity.watch();
        activity.touch();
        watcher.mark_seen();

        let waited = tokio::time::timeout(
            Duration::from_millis(200),
            watcher.wait(Duration::from_hours(1)),
        )
        .await;

        assert!(
            waited.is_err(),
            "a change already seen does not end the wait"
        );
    }
}
