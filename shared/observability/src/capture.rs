//! Log capture for tests that prove what reaches (or never reaches) the logs.

use std::sync::{Arc, Mutex, OnceLock};

use tracing::{
    Dispatch,
    subscriber::{DefaultGuard, NoSubscriber},
};

/// With a single scoped subscriber registered, tracing computes a callsite's interest
/// from the default of whichever thread hits it first: another test's thread, without
/// a subscriber, would switch the callsite off for this one too. A second, inert
/// registration makes tracing ask every registered subscriber instead, and rebuilding
/// the cache switches back on what was switched off before this capture began.
static INERT: OnceLock<Dispatch> = OnceLock::new();

/// The JSON lines logged on this thread while the guard lives, as `logging::init` formats them.
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Captures this thread's logs until the guard is dropped; a `current_thread` runtime
    /// keeps a test's handlers on its thread.
    pub fn start() -> (Self, DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .finish();
        INERT.get_or_init(|| Dispatch::new(NoSubscriber::default()));
        let guard = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        (captured, guard)
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }

    /// The access log lines captured so far.
    pub fn access_lines(&self) -> Vec<serde_json::Value> {
        self.output()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["message"] == "request completed")
            .collect()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
