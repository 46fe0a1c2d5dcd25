//! Integration events and the Lambda plumbing around them: the envelope every event travels
//! in, the publisher that turns a table's DynamoDB stream into EventBridge events, the typed
//! inbox a bus consumer reads them through, and the runtime loop of saga task functions.
//!
//! Services never write to their table and the bus in one request (a dual write that can
//! half-fail). They write state only; the table's stream feeds [`Publisher`], which retries
//! until EventBridge has every event, in order, and parks a record it can never publish
//! ([`parking`]).

pub mod envelope;
pub mod inbox;
pub mod parking;
pub mod publisher;
pub mod task;

pub use envelope::Envelope;
pub use inbox::{Delivery, Inbox, Rejected, run as run_inbox};
pub use parking::{ParkingQueue, StreamBatch};
pub use publisher::{Publisher, StreamMapper, run as run_publisher};
pub use task::{TaskError, run as run_task};

/// An error and its sources as one line (`outer: inner: root`), for logs and for messages that
/// leave the process (a task's error message), where a source chain is not walked.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
