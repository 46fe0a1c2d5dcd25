//! The business metrics orders emits, against DynamoDB on moto: each fact (placed, confirmed
//! with its revenue, rejected per reason, cancelled) is counted once, by the call that stored
//! it, and a repeat that finds it done counts nothing.

#![allow(clippy::unwrap_used)]

mod common;

use orders::{
    config::TestHooks,
    domain::OrderCommand,
    entrypoints::tasks::{self, Task},
    service::PlaceOrder,
};
use shop_observability::{
    capture::{CapturedMetrics, Datum},
    metric_names::{
        COMPENSATIONS, ORDERS_CANCELLED, ORDERS_CONFIRMED, ORDERS_PLACED, ORDERS_REJECTED, REVENUE,
    },
};

const ORDERS: (&str, &str) = ("service", "orders");

/// Every metric name in the captured documents, in order.
fn names(captured: &CapturedMetrics) -> Vec<String> {
    captured
        .documents()
        .iter()
        .flat_map(|document| {
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|metric| metric["Name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn run(setup: &common::Setup, task: serde_json::Value) {
    let task: Task = serde_json::from_value(task).unwrap();
    tasks::run(&setup.orders, TestHooks::default(), task, "saga")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_placed_order_is_counted_once_and_a_replayed_idempotency_key_places_nothing() {
    let setup = common::setup().await;
    let (captured, _guard) = CapturedMetrics::start();
    let request = || PlaceOrder {
        idempotency: Some(("k-metrics".to_owned(), "hash-a".to_owned())),
        ..common::kettles_and_a_mug()
    };

    let first = setup
        .orders
        .place(&setup.card_tokens, "c-1", request(), "test")
        .await
        .unwrap();
    let replayed = setup
        .orders
        .place(&setup.card_tokens, "c-1", request(), "test")
        .await
        .unwrap();

    assert!(!first.replayed && replayed.replayed);
    assert_eq!(
        captured.data(ORDERS_PLACED.name),
        [Datum::new(&[ORDERS], 1.0)]
    );
    assert_eq!(captured.documents()[0]["order_id"], first.order_id.as_str());
}

#[tokio::test]
async fn a_confirmation_counts_the_order_and_its_total_as_revenue_once_however_often_it_runs() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let (captured, _guard) = CapturedMetrics::start();

    for _ in 0..2 {
        run(
            &setup,
            serde_json::json!({"task": "ConfirmOrder", "order_id": order_id}),
        )
        .await;
    }

    assert_eq!(
        captured.data(ORDERS_CONFIRMED.name),
        [Datum::new(&[ORDERS], 1.0)]
    );
    // Two kettles and a mug: 2 × 2999 + 899 cents.
    assert_eq!(
        captured.data(REVENUE.name),
        [Datum::new(&[ORDERS, ("currency", "EUR")], 6897.0)]
    );
    assert_eq!(names(&captured), ["OrdersConfirmed", "Revenue"]);
}

#[tokio::test]
async fn a_rejection_is_counted_once_under_its_reason_and_as_the_rejectorder_compensation() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let (captured, _guard) = CapturedMetrics::start();

    for _ in 0..2 {
        run(
            &setup,
            serde_json::json!({"task": "RejectOrder", "order_id": order_id, "reason": "OutOfStock"}),
        )
        .await;
    }

    assert_eq!(
        captured.data(ORDERS_REJECTED.name),
        [Datum::new(&[ORDERS, ("reason", "OutOfStock")], 1.0)]
    );
    assert_eq!(
        captured.data(COMPENSATIONS.name),
        [Datum::new(&[ORDERS, ("step", "RejectOrder")], 1.0)]
    );
    assert_eq!(names(&captured), ["OrdersRejected", "Compensations"]);
}

#[tokio::test]
async fn a_rejection_whose_reason_is_no_error_type_is_counted_as_other() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let (captured, _guard) = CapturedMetrics::start();

    run(
        &setup,
        serde_json::json!({"task": "RejectOrder", "order_id": order_id, "reason": "the card was declined"}),
    )
    .await;

    assert_eq!(
        captured.data(ORDERS_REJECTED.name),
        [Datum::new(&[ORDERS, ("reason", "Other")], 1.0)]
    );
}

#[tokio::test]
async fn a_cancellation_is_counted_once_and_takes_no_revenue_back() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    setup
        .orders
        .execute(&order_id, &OrderCommand::Confirm, "saga")
        .await
        .unwrap();
    let (captured, _guard) = CapturedMetrics::start();
    let cancel = OrderCommand::Cancel {
        reason: "cancelled by the customer".to_owned(),
    };

    for _ in 0..2 {
        setup
            .orders
            .execute(&order_id, &cancel, "customer")
            .await
            .unwrap();
    }
    // The participants' answers complete the cancellation: no business fact of orders'.
    for by in ["inventory", "payments", "shipping"] {
        let acknowledge = OrderCommand::AcknowledgeCancellation { by: by.to_owned() };
        setup
            .orders
            .execute(&order_id, &acknowledge, "bus")
            .await
            .unwrap();
    }

    assert_eq!(
        captured.data(ORDERS_CANCELLED.name),
        [Datum::new(&[ORDERS], 1.0)]
    );
    assert_eq!(names(&captured), ["OrdersCancelled"]);
}
