//! OrderCancelled from the bus (run by `inventory-events`): the order's stock goes back,
//! once. StockReleased is announced from the reservations table's stream.

use serde_json::Value;

use crate::adapters::{Stock, StockError};

pub async fn handle(stock: &Stock, event: &Value) -> Result<(), StockError> {
    let detail = &event["detail"];
    if detail["type"] != "OrderCancelled" {
        return Ok(());
    }
    let order_id = detail["data"]["order_id"].as_str().unwrap_or_default();
    let released = stock.release(order_id).await?;
    tracing::info!(
        event_type = "OrderCancelled",
        sequence = detail["sequence"].as_u64(),
        correlation_id = %detail["correlation_id"].as_str().unwrap_or_default(),
        order_id,
        ?released,
        "bus message handled"
    );
    Ok(())
}
