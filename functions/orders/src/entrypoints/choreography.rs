//! What orders hears from other services on the bus (run by `orders-choreography`):
//! ShipmentScheduled → the order is shipped. Handled idempotently (shipping a shipped order
//! appends nothing) and logged with the message's type, sequence and correlation id.

use serde_json::Value;

use crate::{
    domain::OrderCommand,
    service::{Orders, OrdersError},
};

pub async fn handle(orders: &Orders, event: &Value) -> Result<(), OrdersError> {
    let detail = &event["detail"];
    let event_type = detail["type"].as_str().unwrap_or_default();
    let order_id = detail["data"]["order_id"].as_str().unwrap_or_default();
    let causation_id = detail["event_id"].as_str().unwrap_or_default();
    let command = match event_type {
        "ShipmentScheduled" => OrderCommand::Ship {
            shipment_id: detail["data"]["shipment_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        },
        other => {
            tracing::info!(event_type = other, "not for orders; ignored");
            return Ok(());
        }
    };
    let outcome = orders.execute(order_id, &command, causation_id).await;
    tracing::info!(
        event_type,
        sequence = detail["sequence"].as_u64(),
        correlation_id = %detail["correlation_id"].as_str().unwrap_or_default(),
        order_id,
        ok = outcome.is_ok(),
        "bus message handled"
    );
    match outcome {
        Ok(_) => Ok(()),
        // The order moved on (cancelled before its shipment was scheduled): shipping hears
        // OrderCancelled too and cancels the shipment, so there is nothing to retry.
        Err(OrdersError::Refused(refusal)) => {
            tracing::warn!(order_id, %refusal, "shipment scheduled for an order that cannot ship");
            Ok(())
        }
        Err(other) => Err(other),
    }
}
