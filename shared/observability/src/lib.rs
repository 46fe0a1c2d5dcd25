//! Observability shared by every function: JSON logs, correlation ids, an HTTP access log
//! layer and CloudWatch embedded metric format (EMF) metrics.

pub mod access_log;
pub mod capture;
pub mod correlation;
pub mod logging;
pub mod metric_names;
pub mod metrics;
pub mod redact;

pub use access_log::{AccessLog, access_log};
pub use correlation::CorrelationId;
pub use metrics::Metrics;
pub use redact::{BodyFields, Field};
