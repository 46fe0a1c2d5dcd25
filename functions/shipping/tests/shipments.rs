//! Shipping against DynamoDB and its stream on moto: schedule and cancel once each, a cancel
//! that comes first wins, the events satisfy their schemas, and only the owner or an admin
//! reads a shipment.

#![allow(clippy::unwrap_used)]

use serde_json::json;
use shipping::{
    adapters::{ShipmentStatus, Shipments},
    entrypoints::{events, http, stream::ShipmentEvents},
};
use shop_events::StreamMapper;
use shop_testkit::{
    Moto,
    api::{ApiRequest, As, send},
    schemas, stack, streams,
};

struct Setup {
    shipments: Shipments,
    stream_arn: String,
    streams: aws_sdk_dynamodbstreams::Client,
}

async fn setup() -> Setup {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    Setup {
        shipments: Shipments::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "ShipmentsTable"),
        ),
        stream_arn: resolver
            .get("ShipmentsTable", devstack::template::Attribute::StreamArn)
            .unwrap()
            .to_owned(),
        streams: aws_sdk_dynamodbstreams::Client::new(&config),
    }
}

fn order_event(event_type: &str, order_id: &str) -> serde_json::Value {
    json!({
        "source": "shop.orders",
        "detail-type": event_type,
        "detail": {
            "event_id": uuid::Uuid::new_v4().to_string(),
            "type": event_type,
            "sequence": 2,
            "correlation_id": order_id,
            "data": {"order_id": order_id, "customer_id": "c-1"}
        }
    })
}

#[tokio::test]
async fn a_confirmed_order_gets_one_shipment_and_a_cancel_cancels_it_once() {
    let setup = setup().await;
    let order = uuid::Uuid::new_v4().to_string();
    assert!(
        events::handle(&setup.shipments, &order_event("OrderConfirmed", &order))
            .await
            .unwrap()
    );
    assert!(
        !events::handle(&setup.shipments, &order_event("OrderConfirmed", &order))
            .await
            .unwrap(),
        "a redelivery changes nothing"
    );
    let scheduled = setup.shipments.get(&order).await.unwrap().unwrap();
    assert_eq!(
        (scheduled.status, scheduled.version),
        (ShipmentStatus::Scheduled, 1)
    );

    assert!(
        events::handle(&setup.shipments, &order_event("OrderCancelled", &order))
            .await
            .unwrap()
    );
    assert!(
        !events::handle(&setup.shipments, &order_event("OrderCancelled", &order))
            .await
            .unwrap()
    );
    let cancelled = setup.shipments.get(&order).await.unwrap().unwrap();
    assert_eq!(
        (cancelled.status, cancelled.version),
        (ShipmentStatus::Cancelled, 2)
    );
    assert_eq!(cancelled.shipment_id, scheduled.shipment_id);

    // The stream announces both, as valid events.
    let batch = streams::read_all(&setup.streams, &setup.stream_arn).await;
    let announced: Vec<String> = batch
        .records
        .iter()
        .filter_map(|record| ShipmentEvents.map(record).unwrap())
        .map(|envelope| {
            let detail = serde_json::to_value(&envelope).unwrap();
            schemas::assert_valid(&detail);
            envelope.event_type
        })
        .collect();
    assert_eq!(announced, ["ShipmentScheduled", "ShipmentCancelled"]);
}

#[tokio::test]
async fn a_cancel_that_arrives_first_keeps_a_late_confirmation_from_scheduling() {
    let setup = setup().await;
    let order = uuid::Uuid::new_v4().to_string();
    assert!(
        events::handle(&setup.shipments, &order_event("OrderCancelled", &order))
            .await
            .unwrap()
    );
    assert!(
        !events::handle(&setup.shipments, &order_event("OrderConfirmed", &order))
            .await
            .unwrap()
    );
    assert_eq!(
        setup.shipments.get(&order).await.unwrap().unwrap().status,
        ShipmentStatus::Cancelled
    );
}

#[tokio::test]
async fn only_the_orders_customer_or_an_admin_reads_its_shipment() {
    let setup = setup().await;
    let order = uuid::Uuid::new_v4().to_string();
    events::handle(&setup.shipments, &order_event("OrderConfirmed", &order))
        .await
        .unwrap();
    let app = http::router(setup.shipments.clone());
    let path = format!("/shipments/{order}");
    assert_eq!(
        send(&app, &ApiRequest::get(&path).caller(As::customer("c-1")))
            .await
            .status,
        200
    );
    assert_eq!(
        send(&app, &ApiRequest::get(&path).caller(As::admin()))
            .await
            .status,
        200
    );
    assert_eq!(
        send(&app, &ApiRequest::get(&path).caller(As::customer("c-2")))
            .await
            .status,
        404
    );
    assert_eq!(send(&app, &ApiRequest::get(&path)).await.status, 401);
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("shipping", &http::openapi());
}
