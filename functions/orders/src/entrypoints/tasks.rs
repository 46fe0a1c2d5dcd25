//! Saga tasks on orders (run by `orders-tasks`, invoked by the place-order state machine):
//! `ConfirmOrder` and `RejectOrder`. Both are idempotent: a retried task finds its event
//! already stored and changes nothing. Refusals carry an error type Step Functions can match.

use serde::Deserialize;
use serde_json::{Value, json};
use shop_events::TaskError;

use crate::{
    config::TestHooks,
    domain::{OrderCommand, OrderEvent},
    service::{Orders, OrdersError},
};

/// With [`TestHooks::crash_on_confirm`], confirming an order whose shipping address is named
/// this kills the task's process.
pub const CRASH_ON_CONFIRM: &str = "crash-on-confirm";

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    ConfirmOrder { order_id: String },
    RejectOrder { order_id: String, reason: String },
}

impl From<OrdersError> for TaskError {
    fn from(error: OrdersError) -> Self {
        let error_type = match &error {
            OrdersError::NotFound => "OrderNotFound",
            OrdersError::Refused(_) => "InvalidOrderState",
            OrdersError::Conflict => "ConcurrentModification",
            _ => "OrdersUnavailable",
        };
        TaskError::new(error_type, &error)
    }
}

pub async fn run(
    orders: &Orders,
    hooks: TestHooks,
    task: Task,
    causation_id: &str,
) -> Result<Value, TaskError> {
    if hooks.crash_on_confirm && crash_requested(orders, &task).await {
        tracing::warn!("test hook: crashing while confirming");
        std::process::exit(70);
    }
    let (order_id, command) = match task {
        Task::ConfirmOrder { order_id } => (order_id, OrderCommand::Confirm),
        Task::RejectOrder { order_id, reason } => (order_id, OrderCommand::Reject { reason }),
    };
    let order = orders.execute(&order_id, &command, causation_id).await?;
    Ok(json!({ "order_id": order.id, "status": order.status, "version": order.version }))
}

/// Whether `task` is a confirmation the crash hook applies to.
async fn crash_requested(orders: &Orders, task: &Task) -> bool {
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
