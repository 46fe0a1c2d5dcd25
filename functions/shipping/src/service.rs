//! The shipping use cases: schedule and cancel an order's shipment once each, and show it to
//! the order's customer or an admin.

use shop_http::Caller;
use shop_observability::{Metrics, metric_names::SHIPMENTS_SCHEDULED};
use time::OffsetDateTime;

use crate::{
    adapters::{Shipments, StoreError},
    domain::{OrderRef, Shipment},
};

/// How often a cancel is decided again after another write to the shipment won: a schedule,
/// then at most another cancel, after which there is nothing left to decide.
const MAX_ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ShippingError {
    #[error("other writes kept changing the shipment; retry")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
    pub async fn schedule(&self, order: &OrderRef) -> Result<bool, ShippingError> {
        let shipment = Shipment::scheduled(order, new_shipment_id(), OffsetDateTime::now_utc());
        let scheduled = self.shipments.put_new(&shipment).await?;
        // Only the write that created the shipment counts: a redelivered OrderConfirmed, or
        // one that came after the cancellation, finds the order's item and writes nothing.
        if scheduled {
            Metrics::new(crate::SERVICE)
                .property("order_id", order.order_id.as_str())
                .count(SHIPMENTS_SCHEDULED.name, 1)
                .emit();
        }
        Ok(scheduled)
    }

    /// Cancels the order's shipment once; `false` when there was nothing left to cancel. A
    /// cancel whose write loses to a schedule (or to another cancel) decides again on what won:
    /// giving up would leave the shipment scheduled, ShipmentCancelled never announced and the
    /// order's cancellation never complete.
    pub async fn cancel(&self, order: &OrderRef) -> Result<bool, ShippingError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.shipments.get(&order.order_id).await?;
            let Some(cancelled) = Shipment::cancelled(
                current.as_ref(),
                order,
                new_shipment_id(),
                OffsetDateTime::now_utc(),
            ) else {
                return Ok(false);
            };
            let written = match current {
                None => self.shipments.put_new(&cancelled).await?,
                Some(_) => self.shipments.replace_scheduled(&cancelled).await?,
            };
            if written {
                return Ok(true);
            }
            tracing::info!(
                order_id = order.order_id,
                "another write to the shipment won; deciding again"
            );
        }
        Err(ShippingError::Contended)
    }

    /// The order's shipment, if the caller may see it: its customer or an admin.
    ///
    /// Order ids are UUIDs; any other text names no order and is answered without a lookup,
    /// since DynamoDB refuses a key over 2048 bytes with an error (moto does not).
    pub async fn shipment(
        &self,
        caller: &Caller,
        order_id: &str,
    ) -> Result<Option<Shipment>, StoreError> {
        if uuid::Uuid::try_parse(order_id).is_err() {
            return Ok(None);
        }
        Ok(self
            .shipments
            .get(order_id)
            .await?
            .filter(|shipment| caller.is_admin() || shipment.customer_id == caller.user_id))
    }
}
