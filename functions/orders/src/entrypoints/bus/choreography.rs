//! What orders hears from other services on the bus (run by `orders-choreography`):
//! ShipmentScheduled → the order is shipped; StockReleased, PaymentRefunded and
//! ShipmentCancelled → that service has undone its part of a cancellation. Handled
//! idempotently: a repeated message appends nothing.

use shop_events::Delivery;

use crate::{
    domain::OrderCommand,
    service::{Orders, OrdersError},
};

shop_events::inbox! {
    /// The other services' answers about an order's shipment and cancellation.
    pub enum Choreography {
        ShipmentScheduled from "shop.shipping" { order_id: String, shipment_id: String },
        StockReleased from "shop.inventory" { order_id: String },
        PaymentRefunded from "shop.payments" { order_id: String },
        ShipmentCancelled from "shop.shipping" { order_id: String },
    }
}

fn acknowledge(by: &str) -> OrderCommand {
    OrderCommand::AcknowledgeCancellation { by: by.to_owned() }
}

pub async fn handle(orders: &Orders, delivery: Delivery<Choreography>) -> Result<(), OrdersError> {
    let (order_id, command) = match delivery.event {
        Choreography::ShipmentScheduled {
            order_id,
            shipment_id,
        } => (order_id, OrderCommand::Ship { shipment_id }),
        Choreography::StockReleased { order_id } => (order_id, acknowledge("inventory")),
        Choreography::PaymentRefunded { order_id } => (order_id, acknowledge("payments")),
        Choreography::ShipmentCancelled { order_id } => (order_id, acknowledge("shipping")),
    };
    let causation_id = delivery.event_id.to_string();
    match orders.execute(&order_id, &command, &causation_id).await {
        Ok(order) => {
            tracing::info!(order_id, status = ?order.status, version = order.version, "order updated");
            Ok(())
        }
        // Not for this order's state: a shipment scheduled for an order cancelled meanwhile
        // (shipping cancels it too), or stock released by the saga's compensation of a
        // rejected order. Nothing to retry.
        Err(OrdersError::Refused(refusal)) => {
            tracing::info!(order_id, %refusal, "message does not apply to the order's state");
            Ok(())
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shop_events::{Envelope, Inbox, Rejected};

    use super::*;

    /// An EventBridge event around an envelope with this type and data, from its publisher.
    fn event(event_type: &str, data: &Value) -> Value {
        let publisher = Choreography::TYPES
            .iter()
            .position(|taken| *taken == event_type)
            .map_or("shop.orders", |index| Choreography::SOURCES[index]);
        let envelope = Envelope {
            event_id: Envelope::event_id_for("shop.shipping", "o-1", 1),
            event_type: event_type.to_owned(),
            version: 1,
            occurred_at: time::OffsetDateTime::UNIX_EPOCH,
            correlation_id: "o-1".to_owned(),
            causation_id: None,
            sequence: 1,
            data: data.clone(),
        };
        json!({"detail-type": event_type, "source": publisher, "detail": envelope})
    }

    #[test]
    fn orders_takes_the_shipping_and_cancellation_answers() {
        assert_eq!(
            Choreography::TYPES,
            [
                "ShipmentScheduled",
                "StockReleased",
                "PaymentRefunded",
                "ShipmentCancelled"
            ]
        );
    }

    #[test]
    fn a_message_without_an_order_id_is_rejected_not_applied_to_order_empty() {
        for (event_type, data) in [
            ("ShipmentScheduled", json!({"shipment_id": "shp_1"})),
            ("ShipmentScheduled", json!({"order_id": "o-1"})),
            ("StockReleased", json!({"lines": []})),
            ("PaymentRefunded", json!({"order_id": null})),
        ] {
            let read = Delivery::<Choreography>::read(event(event_type, &data));
            assert!(
                matches!(read, Err(Rejected::Malformed { .. })),
                "{event_type} {data}: {read:?}"
            );
        }
    }

    #[test]
    fn an_answer_from_another_publisher_than_its_own_is_rejected() {
        let mut forged = event("StockReleased", &json!({"order_id": "o-1"}));
        forged["source"] = json!("shop.catalog");
        let read = Delivery::<Choreography>::read(forged);
        assert!(
            matches!(read, Err(Rejected::ForeignSource { .. })),
            "{read:?}"
        );
    }

    #[test]
    fn an_event_orders_does_not_take_is_rejected_not_ignored() {
        let read =
            Delivery::<Choreography>::read(event("OrderPlaced", &json!({"order_id": "o-1"})));
        assert!(matches!(read, Err(Rejected::NotTaken { .. })), "{read:?}");
    }
}
