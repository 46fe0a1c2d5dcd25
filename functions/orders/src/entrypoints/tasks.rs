//! Saga tasks on orders (run by `orders-tasks`, invoked by the place-order state machine):
//! `ConfirmOrder`, `RejectOrder`, and `CheckOrder`, which the compensation of a failed
//! ConfirmOrder asks first. Confirm and reject are idempotent: a retried task finds its event
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
/// this kills the task's process before it confirms.
pub const CRASH_ON_CONFIRM: &str = "crash-on-confirm";
/// With [`TestHooks::crash_on_confirm`], confirming an order whose shipping address is named
/// this kills the task's process after the confirmation is stored, as a crash before the
/// answer gets out would.
pub const CRASH_AFTER_CONFIRM: &str = "crash-after-confirm";

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    ConfirmOrder {
        order_id: String,
    },
    RejectOrder {
        order_id: String,
        reason: String,
    },
    /// Whether the order was confirmed after all: a ConfirmOrder that failed may have stored
    /// the confirmation before it failed, and then there is nothing to compensate.
    CheckOrder {
        order_id: String,
    },
}

/// Where the crash hook kills a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crash {
    BeforeConfirming,
    AfterConfirming,
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
    let crash = if hooks.crash_on_confirm {
        crash_requested(orders, &task).await
    } else {
        None
    };
    if crash == Some(Crash::BeforeConfirming) {
        tracing::warn!("test hook: crashing while confirming");
        std::process::exit(70);
    }
    let (order_id, command) = match task {
        Task::ConfirmOrder { order_id } => (order_id, OrderCommand::Confirm),
        Task::RejectOrder { order_id, reason } => (order_id, OrderCommand::Reject { reason }),
        Task::CheckOrder { order_id } => {
            let order = orders.current(&order_id).await?;
            return Ok(json!({
                "order_id": order.id,
                "status": order.status,
                "confirmed": order.status.was_confirmed(),
            }));
        }
    };
    let order = orders.execute(&order_id, &command, causation_id).await?;
    if crash == Some(Crash::AfterConfirming) {
        tracing::warn!("test hook: crashing after confirming");
        std::process::exit(70);
    }
    Ok(json!({ "order_id": order.id, "status": order.status, "version": order.version }))
}

/// Where, if anywhere, the crash hook kills `task`.
async fn crash_requested(orders: &Orders, task: &Task) -> Option<Crash> {
    let Task::ConfirmOrder { order_id } = task else {
        return None;
    };
    let events = orders.store.load(order_id, Some(1)).await.ok()?;
    let placed = events.first()?.recorded().ok()?;
    let OrderEvent::OrderPlaced {
        shipping_address, ..
    } = placed.event
    else {
        return None;
    };
    match shipping_address.name.as_str() {
        CRASH_ON_CONFIRM => Some(Crash::BeforeConfirming),
        CRASH_AFTER_CONFIRM => Some(Crash::AfterConfirming),
        _ => None,
    }
}
