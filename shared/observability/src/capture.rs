//! Log capture for tests that prove what reaches (or never reaches) the logs.

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;

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
        let guard = tracing::subscriber::set_default(subscriber);
        // A callsite first hit on another test's thread while this subscriber was being
        // registered can keep the interest it computed without it; asking again closes that.
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
