//! The shipping use cases: schedule and cancel an order's shipment once each, and show it to
//! the order's customer or an admin.

use shop_http::Caller;
use time::OffsetDateTime;

use crate::{
    adapters::{Shipments, StoreError},
    domain::{OrderRef, Shipment},
};

#[derive(Debug, Clone)]
pub struct Shipping {
    pub shipments: Shipments,
}

fn new_shipment_id() -> String {
    format!("shp_{}", uuid::Uuid::new_v4().simple())
}

impl Shipping {
    /// Schedules the order's shipment once; `false` when the order already has one (scheduled
    /// before, or cancelled before it was confirmed).
    pub async fn schedule(&self, order: &OrderRef) -> Result<bool, StoreError> {
        let shipment = Shipment::scheduled(order, new_shipment_id(), OffsetDateTime::now_utc());
        self.shipments.put_new(&shipment).await
    }

    /// Cancels the order's shipment once; `false` when there was nothing left to cancel.
    pub async fn cancel(&self, order: &OrderRef) -> Result<bool, StoreError> {
        let current = self.shipments.get(&order.order_id).await?;
        let Some(cancelled) = Shipment::cancelled(
            current.as_ref(),
            order,
            new_shipment_id(),
            OffsetDateTime::now_utc(),
        ) else {
            return Ok(false);
        };
        match current {
            None => self.shipments.put_new(&cancelled).await,
            Some(_) => self.shipments.replace_scheduled(&cancelled).await,
        }
    }

    /// The order's shipment, if the caller may see it: its customer or an admin.
    pub async fn shipment(
        &self,
        caller: &Caller,
        order_id: &str,
    ) -> Result<Option<Shipment>, StoreError> {
        Ok(self
            .shipments
            .get(order_id)
            .await?
            .filter(|shipment| caller.is_admin() || shipment.customer_id == caller.user_id))
    }
}
