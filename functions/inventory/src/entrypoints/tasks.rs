//! Inventory's tasks of the place-order saga (run by `inventory-tasks`): `ReserveStock` and
//! its compensation `ReleaseStock`. A business refusal is the Lambda error type `OutOfStock`,
//! which the state machine's `Catch` routes on; only `InventoryUnavailable` is worth a retry.

use serde::Deserialize;
use serde_json::{Value, json};
use shop_events::TaskError;
use shop_observability::{
    Metrics,
    metric_names::{COMPENSATIONS, STEP},
};

use crate::{
    domain::{Line, Released, Reserved},
    service::{Inventory, InventoryError},
};

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    ReserveStock { order_id: String, lines: Vec<Line> },
    ReleaseStock { order_id: String },
}

impl From<InventoryError> for TaskError {
    fn from(error: InventoryError) -> Self {
        let error_type = match &error {
            InventoryError::OutOfStock(_) => "OutOfStock",
            InventoryError::AlreadyReleased(_) => "ReservationReleased",
            InventoryError::Invalid(_) => "InvalidTask",
            InventoryError::BelowReserved { .. }
            | InventoryError::Contended
            | InventoryError::Store(_) => "InventoryUnavailable",
        };
        TaskError::new(error_type, &error)
    }
}

pub async fn run(inventory: &Inventory, task: Task) -> Result<Value, TaskError> {
    match task {
        Task::ReserveStock { order_id, lines } => {
            let outcome = inventory.reserve(&order_id, &lines).await?;
            tracing::info!(order_id, ?outcome, "stock reserved");
            Ok(
                json!({"order_id": order_id, "reserved": true, "repeated": outcome == Reserved::Already}),
            )
        }
        Task::ReleaseStock { order_id } => {
            let released = match inventory.release(&order_id).await? {
                Released::Now(lines) => {
                    // Counted here, not in the service: a cancelled order's stock is released
                    // too (the OrderCancelled consumer), and that is no compensation. A release
                    // that found nothing to give back (released before, or never reserved)
                    // undid nothing.
                    Metrics::new(crate::SERVICE)
                        .dimension(STEP, "ReleaseStock")
                        .property("order_id", order_id.as_str())
                        .count(COMPENSATIONS.name, 1)
                        .emit();
                    lines
                }
                Released::Nothing => Vec::new(),
            };
            tracing::info!(order_id, lines = released.len(), "stock released");
            Ok(json!({"order_id": order_id, "released": released}))
        }
    }
}
