//! Saga tasks on orders (run by `orders-tasks`, invoked by the place-order state machine):
//! `ConfirmOrder` and `RejectOrder`. Both are idempotent: a retried task finds its event
//! already stored and changes nothing. Refusals carry an error type Step Functions can match.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    domain::{OrderCommand, OrderEvent},
    service::{Orders, OrdersError},
};

/// Failure injection for the system tests, honoured only where the stage enables test hooks
/// (`EnableTestHooks`, off by default and in every deployed stage): confirming an order whose
/// shipping address is named this kills the task's process, as a crash mid-task would.
pub const CRASH_ON_CONFIRM: &str = "crash-on-confirm";

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    ConfirmOrder { order_id: String },
    RejectOrder { order_id: String, reason: String },
}

/// A task's failure; its `error_type` is the Lambda error type the state machine's `Catch`
/// and `Retry` match on.
#[derive(Debug, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct TaskError {
    pub error_type: &'static str,
    pub message: String,
}

impl From<OrdersError> for TaskError {
    fn from(error: OrdersError) -> Self {
        let error_type = match &error {
            OrdersError::NotFound => "OrderNotFound",
            OrdersError::Refused(_) => "InvalidOrderState",
            OrdersError::Conflict => "ConcurrentModification",
            _ => "OrdersUnavailable",
        };
        Self {
            error_type,
            message: error.to_string(),
        }
    }
}

pub async fn run(orders: &Orders, task: Task, causation_id: &str) -> Result<Value, TaskError> {
    let (order_id, command) = match task {
        Task::ConfirmOrder { order_id } => (order_id, OrderCommand::Confirm),
        Task::RejectOrder { order_id, reason } => (order_id, OrderCommand::Reject { reason }),
    };
    let order = orders.execute(&order_id, &command, causation_id).await?;
    let status = serde_json::to_value(order.status).unwrap_or_default();
    Ok(json!({ "order_id": order.id, "status": status, "version": order.version }))
}

/// Whether `task` is a confirmation the crash hook applies to.
pub async fn crash_requested(orders: &Orders, task: &Task) -> bool {
    let Task::ConfirmOrder { order_id } = task else {
        return false;
    };
    let Ok(events) = orders.store.load(order_id, Some(1)).await else {
        return false;
    };
    events.first().and_then(|e| e.recorded().ok()).is_some_and(|placed| {
        matches!(placed.event, OrderEvent::OrderPlaced { ref shipping_address, .. } if shipping_address.name == CRASH_ON_CONFIRM)
    })
}
