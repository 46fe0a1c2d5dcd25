//! Inventory's tasks of the place-order saga (run by `inventory-tasks`): `ReserveStock` and
//! its compensation `ReleaseStock`. A business refusal is the Lambda error type `OutOfStock`,
//! which the state machine's `Catch` routes on; only `InventoryUnavailable` is worth a retry.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    adapters::{Released, Reserved, Stock, StockError},
    domain::{Line, normalise},
};

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    ReserveStock { order_id: String, lines: Vec<Line> },
    ReleaseStock { order_id: String },
}

#[derive(Debug, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct TaskError {
    pub error_type: &'static str,
    pub message: String,
}

impl From<StockError> for TaskError {
    fn from(error: StockError) -> Self {
        let error_type = match &error {
            StockError::OutOfStock(_) => "OutOfStock",
            StockError::AlreadyReleased => "ReservationReleased",
            _ => "InventoryUnavailable",
        };
        Self {
            error_type,
            message: error.to_string(),
        }
    }
}

pub async fn run(stock: &Stock, task: Task) -> Result<Value, TaskError> {
    match task {
        Task::ReserveStock { order_id, lines } => {
            let lines = normalise(&lines).map_err(|e| TaskError {
                error_type: "InvalidTask",
                message: e.to_string(),
            })?;
            let outcome = stock.reserve(&order_id, &lines).await?;
            tracing::info!(order_id, ?outcome, "stock reserved");
            Ok(
                json!({"order_id": order_id, "reserved": true, "repeated": outcome == Reserved::Already}),
            )
        }
        Task::ReleaseStock { order_id } => {
            let released = match stock.release(&order_id).await? {
                Released::Now(lines) => lines,
                Released::Nothing => Vec::new(),
            };
            tracing::info!(order_id, lines = released.len(), "stock released");
            Ok(json!({"order_id": order_id, "released": released}))
        }
    }
}
