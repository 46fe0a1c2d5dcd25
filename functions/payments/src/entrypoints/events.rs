//! OrderCancelled from the bus (run by `payments-events`): the order's payment is refunded,
//! once. PaymentRefunded is announced from the payments table's stream.

use serde_json::Value;

use crate::{
    ports::CardProvider,
    service::{PaymentError, Payments},
};

pub async fn handle<P: CardProvider>(
    payments: &Payments<P>,
    event: &Value,
) -> Result<(), PaymentError> {
    let detail = &event["detail"];
    if detail["type"] != "OrderCancelled" {
        return Ok(());
    }
    let order_id = detail["data"]["order_id"].as_str().unwrap_or_default();
    let refunded = payments.refund(order_id).await?;
    tracing::info!(
        event_type = "OrderCancelled",
        sequence = detail["sequence"].as_u64(),
        correlation_id = %detail["correlation_id"].as_str().unwrap_or_default(),
        order_id,
        status = ?refunded.map(|p| p.status),
        "bus message handled"
    );
    Ok(())
}
