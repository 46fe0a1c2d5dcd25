//! What orders hears from other services on the bus (run by `orders-choreography`):
//! ShipmentScheduled → the order is shipped; StockReleased, PaymentRefunded and
//! ShipmentCancelled → that service has undone its part of a cancellation. Handled
//! idempotently (a repeated message appends nothing) and logged with the message's type,
//! sequence and correlation id.

use serde_json::Value;

use crate::{
    domain::OrderCommand,
    service::{Orders, OrdersError},
};

fn acknowledge(by: &str) -> OrderCommand {
    OrderCommand::AcknowledgeCancellation { by: by.to_owned() }
}

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
        "StockReleased" => acknowledge("inventory"),
        "PaymentRefunded" => acknowledge("payments"),
        "ShipmentCancelled" => acknowledge("shipping"),
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
        // Not for this order's state: a shipment scheduled for an order cancelled meanwhile
        // (shipping cancels it too), or stock released by the saga's compensation of a
        // rejected order. Nothing to retry.
        Err(OrdersError::Refused(refusal)) => {
            tracing::info!(order_id, event_type, %refusal, "message does not apply to the order's state");
            Ok(())
        }
        Err(other) => Err(other),
    }
}
