//! OrderConfirmed and OrderCancelled from the bus (run by `shipping-events`). Each message is
//! handled idempotently; what shipping did is announced from its table's stream.

use shop_events::Delivery;

use crate::{adapters::StoreError, config::TestHooks, domain::OrderRef, service::Shipping};

shop_events::inbox! {
    /// What shipping takes from the bus.
    pub enum ShippingInbox {
        OrderConfirmed { order_id: String, customer_id: String },
        OrderCancelled { order_id: String, customer_id: String },
    }
}

pub async fn handle(
    shipping: &Shipping,
    hooks: TestHooks,
    delivery: Delivery<ShippingInbox>,
) -> Result<(), StoreError> {
    let (ShippingInbox::OrderConfirmed {
        order_id,
        customer_id,
    }
    | ShippingInbox::OrderCancelled {
        order_id,
        customer_id,
    }) = &delivery.event;
    let order = OrderRef {
        order_id: order_id.clone(),
        customer_id: customer_id.clone(),
        causation_id: delivery.event_id.to_string(),
    };
    let changed = match delivery.event {
        ShippingInbox::OrderConfirmed { .. } => {
            if let Some(hold) = hooks.hold_order_confirmed {
                tracing::warn!(?hold, "test hook: holding OrderConfirmed");
                tokio::time::sleep(hold).await;
            }
            shipping.schedule(&order).await?
        }
        ShippingInbox::OrderCancelled { .. } => shipping.cancel(&order).await?,
    };
    tracing::info!(order_id = order.order_id, changed, "shipment updated");
    Ok(())
}
