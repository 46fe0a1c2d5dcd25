//! OrderConfirmed and OrderCancelled from the bus (run by `shipping-events`). Each message is
//! handled idempotently and logged with its type, sequence and correlation id.

use serde_json::Value;

use crate::adapters::{Shipments, ShipmentsError};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unreadable event: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] ShipmentsError),
}

/// Handles one EventBridge event; returns whether anything changed.
pub async fn handle(shipments: &Shipments, event: &Value) -> Result<bool, EventError> {
    let detail = &event["detail"];
    let text = |value: &Value, name: &str| {
        value[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| EventError::Unreadable(format!("no {name}")))
    };
    let event_type = text(detail, "type")?;
    let order_id = text(&detail["data"], "order_id")?;
    let customer_id = text(&detail["data"], "customer_id")?;
    let event_id = text(detail, "event_id")?;
    let changed = match event_type.as_str() {
        "OrderConfirmed" => {
            shipments
                .schedule(&order_id, &customer_id, &event_id)
                .await?
        }
        "OrderCancelled" => shipments.cancel(&order_id, &customer_id, &event_id).await?,
        _ => false,
    };
    tracing::info!(
        event_type,
        sequence = detail["sequence"].as_u64(),
        correlation_id = %detail["correlation_id"].as_str().unwrap_or_default(),
        order_id,
        changed,
        "bus message handled"
    );
    Ok(changed)
}
