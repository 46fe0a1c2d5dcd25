//! Integration events: the envelope every event travels in, and the publisher that turns a
//! table's DynamoDB stream into EventBridge events.
//!
//! Services never write to their table and the bus in one request (a dual write that can
//! half-fail). They write state only; the table's stream feeds [`Publisher`], which retries
//! until EventBridge has every event, in order.

pub mod envelope;
pub mod publisher;

pub use envelope::Envelope;
pub use publisher::{Publisher, StreamMapper, run as run_publisher};
