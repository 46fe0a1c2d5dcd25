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

use shop_aws::error_chain;
