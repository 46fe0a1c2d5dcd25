//! OrderCancelled from the bus (run by `inventory-events`): the order's stock goes back,
//! once. StockReleased is announced from the reservations table's stream.

use shop_events::Delivery;

use crate::service::{Inventory, InventoryError};

shop_events::inbox! {
    /// What inventory takes from the bus.
    pub enum InventoryInbox {
        OrderCancelled from "shop.orders" { order_id: String },
    }
}

pub async fn handle(
    inventory: &Inventory,
    delivery: Delivery<InventoryInbox>,
) -> Result<(), InventoryError> {
    let InventoryInbox::OrderCancelled { order_id } = delivery.event;
    let released = inventory.release(&order_id).await?;
    tracing::info!(order_id, ?released, "stock of a cancelled order released");
    Ok(())
}
