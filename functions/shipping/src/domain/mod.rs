//! A shipment and the rules of its short life: scheduled once for a confirmed order,
//! cancelled at most once. No I/O here.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    Scheduled,
    Cancelled,
}

/// An order's shipment. `version` is the sequence of its events: 1 when scheduled, 2 once
/// cancelled (1 for an order cancelled before it had one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub order_id: String,
    pub customer_id: String,
    pub shipment_id: String,
    pub status: ShipmentStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The event that caused this version.
    pub causation_id: String,
}

/// Who an order is and what caused the change: the same for scheduling and cancelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRef {
    pub order_id: String,
    pub customer_id: String,
    pub causation_id: String,
}

impl Shipment {
    /// The shipment of a confirmed order.
    pub fn scheduled(order: &OrderRef, shipment_id: String, now: OffsetDateTime) -> Self {
        Self {
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            shipment_id,
            status: ShipmentStatus::Scheduled,
            version: 1,
            updated_at: now,
            causation_id: order.causation_id.clone(),
        }
    }

    /// The shipment after its order was cancelled, or `None` when it is cancelled already.
    /// An order cancelled before it had a shipment gets a cancelled one, so a late
    /// OrderConfirmed cannot schedule it.
    pub fn cancelled(
        current: Option<&Self>,
        order: &OrderRef,
        shipment_id: String,
        now: OffsetDateTime,
    ) -> Option<Self> {
        let Some(current) = current else {
            return Some(Self {
                status: ShipmentStatus::Cancelled,
                ..Self::scheduled(order, shipment_id, now)
            });
        };
        (current.status == ShipmentStatus::Scheduled).then(|| Self {
            status: ShipmentStatus::Cancelled,
            version: current.version + 1,
            updated_at: now,
            causation_id: order.causation_id.clone(),
            ..current.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-27 10:00 UTC);

    fn order(causation_id: &str) -> OrderRef {
        OrderRef {
            order_id: "o-1".into(),
            customer_id: "c-1".into(),
            causation_id: causation_id.into(),
        }
    }

    #[test]
    fn a_scheduled_shipment_is_cancelled_once_keeping_its_id() {
        let scheduled = Shipment::scheduled(&order("confirmed"), "shp_1".into(), NOW);
        let cancelled =
            Shipment::cancelled(Some(&scheduled), &order("cancelled"), "shp_2".into(), NOW)
                .unwrap();
        assert_eq!(
            (
                cancelled.status,
                cancelled.version,
                cancelled.shipment_id.as_str()
            ),
            (ShipmentStatus::Cancelled, 2, "shp_1")
        );
        assert_eq!(cancelled.causation_id, "cancelled");
        assert_eq!(
            Shipment::cancelled(Some(&cancelled), &order("again"), "shp_3".into(), NOW),
            None
        );
    }

    #[test]
    fn an_order_cancelled_before_its_shipment_gets_a_cancelled_one() {
        let cancelled =
            Shipment::cancelled(None, &order("cancelled"), "shp_1".into(), NOW).unwrap();
        assert_eq!(
            (cancelled.status, cancelled.version),
            (ShipmentStatus::Cancelled, 1)
        );
    }
}
