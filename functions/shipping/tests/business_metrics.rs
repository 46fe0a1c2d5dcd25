//! The business metric shipping emits, against DynamoDB on moto: a shipment scheduled for a
//! confirmed order is counted once, by the delivery that stored it; a redelivered
//! OrderConfirmed, or one that comes after the order's cancellation, schedules nothing.

#![allow(clippy::unwrap_used)]

use serde_json::json;
use shipping::{
    adapters::Shipments,
    config::TestHooks,
    entrypoints::bus::{self, ShippingInbox},
    service::Shipping,
};
use shop_events::Delivery;
use shop_observability::{
    capture::{CapturedMetrics, Datum},
    metric_names::SHIPMENTS_SCHEDULED,
};
use shop_testkit::{Moto, stack};

async fn shipping() -> Shipping {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    Shipping {
        shipments: Shipments::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "ShipmentsTable"),
        ),
    }
}

/// The bus event orders publishes, with a stable event id: delivered twice, it is one event.
fn order_event(event_type: &str, order_id: &str, sequence: u64) -> serde_json::Value {
    let event_id = shop_events::Envelope::event_id_for("shop.orders", order_id, sequence);
    json!({
        "source": "shop.orders",
        "detail-type": event_type,
        "detail": {
            "event_id": event_id, "type": event_type, "version": 1,
            "occurred_at": "2026-11-27T10:00:00Z", "sequence": sequence,
            "correlation_id": order_id,
            "data": {"order_id": order_id, "customer_id": "c-1"}
        }
    })
}

async fn deliver(shipping: &Shipping, event: serde_json::Value) {
    let delivery = Delivery::<ShippingInbox>::read(event).unwrap();
    bus::handle(shipping, TestHooks::default(), delivery)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_shipment_is_counted_once_by_the_delivery_that_scheduled_it() {
    let shipping = shipping().await;
    let confirmed = uuid::Uuid::new_v4().to_string();
    let cancelled_first = uuid::Uuid::new_v4().to_string();
    let (captured, _guard) = CapturedMetrics::start();

    for _ in 0..2 {
        deliver(&shipping, order_event("OrderConfirmed", &confirmed, 2)).await;
    }
    deliver(
        &shipping,
        order_event("OrderCancelled", &cancelled_first, 3),
    )
    .await;
    deliver(
        &shipping,
        order_event("OrderConfirmed", &cancelled_first, 2),
    )
    .await;

    assert_eq!(
        captured.data(SHIPMENTS_SCHEDULED.name),
        [Datum::new(&[("service", "shipping")], 1.0)]
    );
    assert_eq!(captured.documents()[0]["order_id"], confirmed.as_str());
}
