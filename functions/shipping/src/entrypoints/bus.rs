//! OrderConfirmed and OrderCancelled from the bus (run by `shipping-events`). Each message is
//! handled idempotently; what shipping did is announced from its table's stream.

use std::time::{Duration, Instant};

use shop_events::Delivery;

use crate::{
    config::TestHooks,
    domain::OrderRef,
    service::{Shipping, ShippingError},
};

/// How often a held confirmation looks for the order's cancellation.
const HOLD_POLL: Duration = Duration::from_millis(100);

shop_events::inbox! {
    /// What shipping takes from the bus.
    pub enum ShippingInbox {
        OrderConfirmed from "shop.orders" { order_id: String, customer_id: String },
        OrderCancelled from "shop.orders" { order_id: String, customer_id: String },
    }
}

pub async fn handle(
    shipping: &Shipping,
    hooks: TestHooks,
    delivery: Delivery<ShippingInbox>,
) -> Result<(), ShippingError> {
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
            if let Some(hold) = hooks.hold_for(&order.customer_id) {
                hold_until_cancelled(shipping, &order, hold).await?;
            }
            shipping.schedule(&order).await?
        }
        ShippingInbox::OrderCancelled { .. } => shipping.cancel(&order).await?,
    };
    tracing::info!(order_id = order.order_id, changed, "shipment updated");
    Ok(())
}

/// The hold hook: waits until the order's cancellation has recorded its shipment (the cancel
/// came first, so the confirmation schedules nothing) or `hold` has passed.
async fn hold_until_cancelled(
    shipping: &Shipping,
    order: &OrderRef,
    hold: Duration,
) -> Result<(), ShippingError> {
    tracing::warn!(?hold, "test hook: holding OrderConfirmed");
    let until = Instant::now() + hold;
    while Instant::now() < until {
        if shipping.shipments.get(&order.order_id).await?.is_some() {
            return Ok(());
        }
        tokio::time::sleep(HOLD_POLL).await;
    }
    Ok(())
}
