//! Log and metric capture for tests that prove what reaches (or never reaches) the logs, and
//! which metrics a use case emits.

use std::{
    cell::RefCell,
    sync::{Arc, Mutex, OnceLock},
};

use serde_json::Value;

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

thread_local! {
    /// The capture of this thread's metrics, while a test holds one.
    static METRICS: RefCell<Option<CapturedMetrics>> = const { RefCell::new(None) };
}

/// Hands an EMF document to this thread's capture, if a test started one; otherwise gives it
/// back to be printed.
pub(crate) fn offer(document: Value) -> Option<Value> {
    METRICS.with_borrow(|capture| match capture {
        Some(capture) => {
            capture.0.lock().expect("not poisoned").push(document);
            None
        }
        None => Some(document),
    })
}

/// The EMF documents [`crate::Metrics::emit`] wrote on this thread while the guard lives (they
/// are not printed meanwhile). Like [`CapturedLogs`], it needs the handlers on the test's
/// thread: a `current_thread` runtime.
#[derive(Debug, Clone, Default)]
pub struct CapturedMetrics(Arc<Mutex<Vec<Value>>>);

/// Ends a metrics capture when dropped, restoring the one it replaced.
#[derive(Debug)]
pub struct MetricsCaptureGuard {
    replaced: Option<CapturedMetrics>,
}

impl Drop for MetricsCaptureGuard {
    fn drop(&mut self) {
        let replaced = self.replaced.take();
        METRICS.with_borrow_mut(|capture| *capture = replaced);
    }
}

/// One value of a metric and the dimensions it was recorded under, `service` first.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub dimensions: Vec<(String, String)>,
    pub value: f64,
}

impl Datum {
    /// A datum to compare with: `Datum::new(&[("service", "orders")], 1.0)`.
    pub fn new(dimensions: &[(&str, &str)], value: f64) -> Self {
        Self {
            dimensions: dimensions
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            value,
        }
    }
}

impl CapturedMetrics {
    /// Captures this thread's metrics until the guard is dropped.
    pub fn start() -> (Self, MetricsCaptureGuard) {
        let captured = Self::default();
        let replaced = METRICS.with_borrow_mut(|capture| capture.replace(captured.clone()));
        (captured, MetricsCaptureGuard { replaced })
    }

    /// Every document emitted so far, in order.
    pub fn documents(&self) -> Vec<Value> {
        self.0.lock().expect("not poisoned").clone()
    }

    /// Every value of the metric `name` emitted so far, each under the fullest dimension set
    /// its document declared (the others are its prefixes).
    pub fn data(&self, name: &str) -> Vec<Datum> {
        let mut data = Vec::new();
        for document in self.documents() {
            for directive in document["_aws"]["CloudWatchMetrics"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let declared = directive["Metrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|metric| metric["Name"] == name);
                let Some(value) = document[name].as_f64().filter(|_| declared) else {
                    continue;
                };
                let fullest = directive["Dimensions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .max_by_key(|set| set.len())
                    .cloned()
                    .unwrap_or_default();
                let dimensions = fullest
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|dimension| {
                        let value = document[dimension].as_str().unwrap_or_default();
                        (dimension.to_owned(), value.to_owned())
                    })
                    .collect();
                data.push(Datum { dimensions, value });
            }
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metrics;

    #[test]
    fn captured_metrics_are_read_back_per_name_with_their_dimensions() {
        let (captured, guard) = CapturedMetrics::start();
        Metrics::new("orders")
            .dimension("reason", "OutOfStock")
            .property("order_id", "o-1")
            .count("OrdersRejected", 1)
            .emit();
        Metrics::new("orders").count("OrdersPlaced", 1).emit();
        drop(guard);
        Metrics::new("orders").count("OrdersPlaced", 1).emit();

        assert_eq!(
            captured.data("OrdersRejected"),
            [Datum::new(
                &[("service", "orders"), ("reason", "OutOfStock")],
                1.0
            )]
        );
        assert_eq!(
            captured.data("OrdersPlaced"),
            [Datum::new(&[("service", "orders")], 1.0)],
            "what was emitted after the guard went is not captured"
        );
        assert!(
            captured.data("order_id").is_empty(),
            "a property is no metric"
        );
    }

    #[test]
    fn another_threads_metrics_are_not_captured() {
        let (captured, _guard) = CapturedMetrics::start();
        std::thread::spawn(|| Metrics::new("orders").count("OrdersPlaced", 1).emit())
            .join()
            .unwrap();
        assert!(captured.documents().is_empty());
    }
}
