//! `tracing` set up for Lambda: one JSON object per line on stdout, which CloudWatch Logs
//! stores as-is and Logs Insights can query by field.

use tracing_subscriber::{EnvFilter, fmt};

/// Installs the JSON subscriber. The level comes from `RUST_LOG` (default `info`).
///
/// Lambda stamps each line with its own timestamp and request id, so ours would only
/// duplicate them; the span list is flattened so that fields such as `correlation_id` sit
/// on every line of a request.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .flatten_event(true)
        .with_span_list(true)
        .with_target(false)
        .without_time()
        .finish();
    // A second init (tests, or a binary calling twice) keeps the first subscriber.
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        tracing::info!(service, "logging initialised");
    }
}
