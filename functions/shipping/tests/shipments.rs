//! Shipping against DynamoDB and its stream on moto: schedule and cancel once each, a cancel
//! that comes first wins, the events satisfy their schemas, and only the owner or an admin
//! reads a shipment.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use shipping::{
    adapters::Shipments,
    config::{HELD_CUSTOMER_PREFIX, TestHooks},
    domain::{OrderRef, ShipmentStatus},
    entrypoints::{bus, http, stream::ShipmentEvents},
    service::Shipping,
};
use shop_events::{Delivery, StreamMapper};
use shop_testkit::{
    Moto,
    api::{ApiRequest, As, send},
    schemas, stack, streams,
};

struct Setup {
    shipping: Shipping,
    stream_arn: String,
    streams: aws_sdk_dynamodbstreams::Client,
}

async fn setup() -> Setup {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    Setup {
        shipping: Shipping {
            shipments: Shipments::new(
                aws_sdk_dynamodb::Client::new(&config),
                stack::name(&resolver, "ShipmentsTable"),
            ),
        },
        stream_arn: resolver
            .get("ShipmentsTable", devstack::template::Attribute::StreamArn)
            .unwrap()
            .to_owned(),
        streams: aws_sdk_dynamodbstreams::Client::new(&config),
    }
}

fn order(order_id: &str, causation_id: &str) -> OrderRef {
    OrderRef {
        order_id: order_id.to_owned(),
        customer_id: "c-1".to_owned(),
        causation_id: causation_id.to_owned(),
    }
}

fn order_event(event_type: &str, order_id: &str) -> serde_json::Value {
    order_event_of(event_type, order_id, "c-1")
}

fn order_event_of(event_type: &str, order_id: &str, customer_id: &str) -> serde_json::Value {
    json!({
        "source": "shop.orders",
        "detail-type": event_type,
        "detail": {
            "event_id": uuid::Uuid::new_v4().to_string(),
            "type": event_type,
            "version": 1,
            "occurred_at": "2026-11-27T10:00:00Z",
            "sequence": 2,
            "correlation_id": order_id,
            "data": {"order_id": order_id, "customer_id": customer_id}
        }
    })
}

#[tokio::test]
async fn a_confirmed_order_gets_one_shipment_and_a_cancel_cancels_it_once() {
    let setup = setup().await;
    let id = uuid::Uuid::new_v4().to_string();
    let shipping = &setup.shipping;
    assert!(shipping.schedule(&order(&id, "confirmed")).await.unwrap());
    assert!(
        !shipping.schedule(&order(&id, "confirmed")).await.unwrap(),
        "a redelivery changes nothing"
    );
    let scheduled = shipping.shipments.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (scheduled.status, scheduled.version),
        (ShipmentStatus::Scheduled, 1)
    );

    assert!(shipping.cancel(&order(&id, "cancelled")).await.unwrap());
    assert!(!shipping.cancel(&order(&id, "cancelled")).await.unwrap());
    let cancelled = shipping.shipments.get(&id).await.unwrap().unwrap();
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
    let id = uuid::Uuid::new_v4().to_string();
    assert!(
        setup
            .shipping
            .cancel(&order(&id, "cancelled"))
            .await
            .unwrap()
    );
    assert!(
        !setup
            .shipping
            .schedule(&order(&id, "confirmed"))
            .await
            .unwrap()
    );
    assert_eq!(
        setup
            .shipping
            .shipments
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ShipmentStatus::Cancelled
    );
}

#[tokio::test]
async fn a_cancel_racing_a_schedule_always_ends_in_a_cancelled_shipment() {
    let setup = setup().await;
    let shipping = &setup.shipping;
    let ids: Vec<String> = (0..20).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let races = ids.iter().map(|id| async move {
        let (confirmed, cancelled) = (order(id, "confirmed"), order(id, "cancelled"));
        let (scheduled, cancelled) =
            tokio::join!(shipping.schedule(&confirmed), shipping.cancel(&cancelled));
        (scheduled.unwrap(), cancelled.unwrap())
    });
    let outcomes = futures::future::join_all(races).await;
    for (id, (scheduled, cancelled)) in ids.iter().zip(outcomes) {
        assert!(cancelled, "the cancel of {id} took effect");
        let shipment = shipping.shipments.get(id).await.unwrap().unwrap();
        // Scheduled first, then cancelled (announced as ShipmentCancelled, sequence 2), or
        // cancelled before it had a shipment.
        let expected_version = if scheduled { 2 } else { 1 };
        assert_eq!(
            (shipment.status, shipment.version),
            (ShipmentStatus::Cancelled, expected_version),
            "{id}"
        );
    }
}

#[tokio::test]
async fn bus_events_schedule_and_cancel_with_the_event_as_cause() {
    let setup = setup().await;
    let id = uuid::Uuid::new_v4().to_string();
    for event_type in ["OrderConfirmed", "OrderCancelled"] {
        let event = order_event(event_type, &id);
        let delivery = Delivery::read(event.clone()).unwrap();
        bus::handle(&setup.shipping, TestHooks::default(), delivery)
            .await
            .unwrap();
        let shipment = setup.shipping.shipments.get(&id).await.unwrap().unwrap();
        assert_eq!(shipment.causation_id, event["detail"]["event_id"]);
    }
    let shipment = setup.shipping.shipments.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (shipment.status, shipment.version),
        (ShipmentStatus::Cancelled, 2)
    );
}

#[tokio::test]
async fn a_held_confirmation_waits_for_the_cancel_and_then_schedules_nothing() {
    let setup = setup().await;
    let hooks = TestHooks {
        hold_order_confirmed: Some(Duration::from_secs(8)),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let customer = format!("{HELD_CUSTOMER_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let started = Instant::now();
    let confirmed = Delivery::read(order_event_of("OrderConfirmed", &id, &customer)).unwrap();
    let cancelled = Delivery::read(order_event_of("OrderCancelled", &id, &customer)).unwrap();
    let held = bus::handle(&setup.shipping, hooks, confirmed);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        bus::handle(&setup.shipping, hooks, cancelled).await
    };
    let (held, cancel) = tokio::join!(held, cancel);
    held.unwrap();
    cancel.unwrap();

    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the hold ended with the cancel"
    );
    let shipment = setup.shipping.shipments.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (shipment.status, shipment.version),
        (ShipmentStatus::Cancelled, 1),
        "never scheduled"
    );
}

#[tokio::test]
async fn an_order_that_does_not_ask_to_be_held_ships_at_once() {
    let setup = setup().await;
    let hooks = TestHooks {
        hold_order_confirmed: Some(Duration::from_secs(8)),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let confirmed = Delivery::read(order_event("OrderConfirmed", &id)).unwrap();
    bus::handle(&setup.shipping, hooks, confirmed)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        setup
            .shipping
            .shipments
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ShipmentStatus::Scheduled
    );
}

#[test]
fn an_order_event_without_a_customer_is_rejected_not_shipped_to_nobody() {
    let mut event = order_event("OrderConfirmed", "o-1");
    event["detail"]["data"]
        .as_object_mut()
        .unwrap()
        .remove("customer_id");
    assert!(matches!(
        Delivery::<bus::ShippingInbox>::read(event),
        Err(shop_events::Rejected::Malformed { .. })
    ));
}

#[tokio::test]
async fn health_is_ok_without_a_token_when_the_table_answers() {
    let app = http::router(setup().await.shipping);
    let response = send(&app, &ApiRequest::get("/shipping/health")).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(response.body["checks"], json!({"shipments_table": "ok"}));
}

#[tokio::test]
async fn health_is_a_503_naming_the_check_when_the_table_is_missing() {
    let config = Moto::shared().sdk_config().await;
    let app = http::router(Shipping {
        shipments: Shipments::new(
            aws_sdk_dynamodb::Client::new(&config),
            "never-created-shipments".to_owned(),
        ),
    });
    let response = send(&app, &ApiRequest::get("/shipping/health")).await;
    assert_eq!(response.status, 503, "{:#}", response.body);
    assert_eq!(response.body["status"], "unavailable");
    assert_eq!(
        response.body["checks"],
        json!({"shipments_table": "failed"})
    );
}

#[tokio::test]
async fn only_the_orders_customer_or_an_admin_reads_its_shipment() {
    let setup = setup().await;
    let id = uuid::Uuid::new_v4().to_string();
    setup
        .shipping
        .schedule(&order(&id, "confirmed"))
        .await
        .unwrap();
    let app = http::router(setup.shipping.clone());
    let path = format!("/shipments/{id}");
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

/// A path id of any length went to `GetItem`, which DynamoDB refuses beyond 2048 bytes: a 500
/// on AWS. moto answers such a key, so fuzzing on devstack could not show it.
#[tokio::test]
async fn an_order_id_that_is_not_a_uuid_is_a_404_without_a_lookup() {
    let config = Moto::shared().sdk_config().await;
    let unreachable = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let app = http::router(Shipping {
        shipments: Shipments::new(
            aws_sdk_dynamodb::Client::from_conf(unreachable),
            "unreachable".to_owned(),
        ),
    });
    for id in ["o-1".to_owned(), "a".repeat(3000)] {
        let request = ApiRequest::get(&format!("/shipments/{id}")).caller(As::admin());
        assert_eq!(send(&app, &request).await.status, 404);
    }
    let uuid = uuid::Uuid::new_v4();
    let request = ApiRequest::get(&format!("/shipments/{uuid}")).caller(As::admin());
    assert_eq!(
        send(&app, &request).await.status,
        500,
        "a UUID is looked up (and this DynamoDB cannot be reached)"
    );
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("shipping", &http::openapi());
}
