//! Observability shared by every function: JSON logs, correlation ids, an HTTP access log
//! layer and CloudWatch embedded metric format (EMF) metrics.

pub mod access_log;
pub mod correlation;
pub mod logging;
pub mod metrics;
pub mod redact;

pub use access_log::access_log;
pub use correlation::CorrelationId;
pub use metrics::Metrics;
