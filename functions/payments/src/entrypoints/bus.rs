//! OrderCancelled from the bus (run by `payments-events`): the order's payment is refunded,
//! once. PaymentRefunded is announced from the payments table's stream.

use shop_events::Delivery;

use crate::{
    ports::CardProvider,
    service::{PaymentError, Payments},
};

shop_events::inbox! {
    /// What payments takes from the bus.
    pub enum PaymentsInbox {
        OrderCancelled from "shop.orders" { order_id: String },
    }
}

pub async fn handle<P: CardProvider>(
    payments: &Payments<P>,
    delivery: Delivery<PaymentsInbox>,
) -> Result<(), PaymentError> {
    let PaymentsInbox::OrderCancelled { order_id } = delivery.event;
    let refunded = payments.refund(&order_id).await?;
    tracing::info!(order_id, status = ?refunded.map(|p| p.status), "payment of a cancelled order refunded");
    Ok(())
}
