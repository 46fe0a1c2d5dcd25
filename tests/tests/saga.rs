//! The place-order saga on devstack, end to end over HTTP: OrderPlaced on the bus starts the
//! state machine, which reserves stock, authorizes payment and confirms, or compensates.
//! Every case checks the order, the stock, the payment and the card provider's books
//! together, and the states the execution went through with each task's attempts, from the
//! saga's execution log (which both workflow types write; Express keeps no history): one test
//! per row of the failure matrix in docs/sagas.md. `SHOP_SAGA_WORKFLOW=EXPRESS` runs the suite
//! on an Express saga (`make saga-express`).

#![allow(clippy::unwrap_used)]

mod orders_common;

use std::time::{Duration, Instant};

use orders_common::{
    SagaRun, assert_settled, available, executions_of, get, order_when, paid_with, place,
    provider_books, saga_run, stocked_product,
};
use serde_json::{Value, json};
use system_tests::system;

/// Places an order of `quantity` units paid with `card_token` and waits for its final state:
/// REJECTED by the saga, or SHIPPED (a confirmed order is shipped by choreography).
async fn settle(product_id: &str, quantity: u32, card_token: &str) -> Value {
    settle_shipped_to(product_id, quantity, card_token, "Carl").await
}

/// [`settle`], with the shipping address's name (the orders tasks' crash hook reads it).
async fn settle_shipped_to(
    product_id: &str,
    quantity: u32,
    card_token: &str,
    shipping_name: &str,
) -> Value {
    let token = &system().customer_token;
    let mut body = paid_with(&[(product_id, quantity)], card_token);
    body["shipping_address"]["name"] = json!(shipping_name);
    let placed = place(token, &body, None).await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    order_when(&id, token, |order| {
        order["status"] == "REJECTED" || order["status"] == "SHIPPED"
    })
    .await
}

fn id(order: &Value) -> &str {
    order["order_id"].as_str().unwrap()
}

/// A run as the execution log lists it: each state with its task's attempts.
fn run(status: &str, steps: &[(&str, u32)]) -> SagaRun {
    SagaRun {
        status: status.to_owned(),
        steps: steps
            .iter()
            .map(|(state, attempts)| ((*state).to_owned(), *attempts))
            .collect(),
    }
}

#[tokio::test]
async fn a_paid_order_in_stock_is_confirmed_then_shipped_with_stock_reserved_and_payment_authorized()
 {
    let (product, sku) = stocked_product(1999, 10).await;
    let order = settle(&product, 3, "tok_visa").await;
    assert_settled(&order, "SHIPPED", None, &sku, 7, Some("AUTHORIZED")).await;
    let id = id(&order);
    assert_eq!(
        saga_run(id).await,
        run(
            "SUCCEEDED",
            &[
                ("ReserveStock", 1),
                ("AuthorizePayment", 1),
                ("ConfirmOrder", 1)
            ]
        )
    );
    assert_eq!(provider_books(id).await, (3 * 1999, 0, 0));
    let trail = get(&format!("/orders/{id}/events"), &system().customer_token)
        .await
        .body;
    let types: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["OrderPlaced", "OrderConfirmed", "OrderShipped"]);
    let shipment = get(&format!("/shipments/{id}"), &system().customer_token)
        .await
        .body;
    assert_eq!(shipment["status"], "SCHEDULED");
    assert_eq!(shipment["shipment_id"], order["shipment_id"]);
}

#[tokio::test]
async fn an_order_beyond_the_stock_is_rejected_out_of_stock_without_a_payment() {
    let (product, sku) = stocked_product(1999, 2).await;
    let order = settle(&product, 3, "tok_visa").await;
    assert_settled(&order, "REJECTED", Some("OutOfStock"), &sku, 2, None).await;
    assert_eq!(
        saga_run(id(&order)).await,
        run("SUCCEEDED", &[("ReserveStock", 1), ("RejectOrder", 1)])
    );
}

#[tokio::test]
async fn a_declined_card_rejects_the_order_and_releases_the_stock() {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 2, "tok_declined").await;
    assert_settled(
        &order,
        "REJECTED",
        Some("PaymentDeclined"),
        &sku,
        5,
        Some("DECLINED"),
    )
    .await;
    assert_eq!(
        saga_run(id(&order)).await,
        run(
            "SUCCEEDED",
            &[
                ("ReserveStock", 1),
                ("AuthorizePayment", 1),
                ("VoidPayment", 1),
                ("ReleaseStock", 1),
                ("RejectOrder", 1)
            ]
        )
    );
    assert_eq!(provider_books(id(&order)).await, (0, 0, 0), "nothing held");
}

#[tokio::test]
async fn a_provider_that_never_answers_is_tried_three_times_then_the_order_rejected_and_the_hold_voided()
 {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_timeout").await;
    assert_settled(
        &order,
        "REJECTED",
        Some("PaymentTimeout"),
        &sku,
        5,
        Some("VOIDED"),
    )
    .await;
    assert_eq!(
        saga_run(id(&order)).await,
        run(
            "SUCCEEDED",
            &[
                ("ReserveStock", 1),
                ("AuthorizePayment", 3),
                ("VoidPayment", 1),
                ("ReleaseStock", 1),
                ("RejectOrder", 1)
            ]
        )
    );
    // The provider held the amount once (its answers were lost) and the void released it.
    assert_eq!(provider_books(id(&order)).await, (1999, 1999, 0));
}

#[tokio::test]
async fn a_flaky_provider_is_tried_twice_and_the_order_confirmed_with_one_hold() {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_flaky").await;
    assert_settled(&order, "SHIPPED", None, &sku, 4, Some("AUTHORIZED")).await;
    assert_eq!(
        saga_run(id(&order)).await,
        run(
            "SUCCEEDED",
            &[
                ("ReserveStock", 1),
                ("AuthorizePayment", 2),
                ("ConfirmOrder", 1)
            ]
        )
    );
    assert_eq!(provider_books(id(&order)).await, (1999, 0, 0));
}

#[tokio::test]
async fn a_crash_before_confirming_still_ends_the_saga_with_everything_given_back() {
    let (product, sku) = stocked_product(1999, 5).await;
    // The test hook: confirming this order kills the orders task's process, every time.
    let order = settle_shipped_to(&product, 2, "tok_visa", "crash-on-confirm").await;
    assert_settled(
        &order,
        "REJECTED",
        Some("Runtime.ExitError"),
        &sku,
        5,
        Some("VOIDED"),
    )
    .await;
    assert_eq!(
        saga_run(id(&order)).await,
        run(
            "SUCCEEDED",
            &[
                ("ReserveStock", 1),
                ("AuthorizePayment", 1),
                ("ConfirmOrder", 4),
                ("CheckOrder", 1),
                ("WasOrderConfirmed", 0),
                ("VoidPayment", 1),
                ("ReleaseStock", 1),
                ("RejectOrder", 1)
            ]
        )
    );
    assert_eq!(provider_books(id(&order)).await, (2 * 1999, 2 * 1999, 0));
}

#[tokio::test]
async fn a_crash_after_the_confirmation_was_stored_keeps_the_order_its_stock_and_its_payment() {
    let (product, sku) = stocked_product(1999, 5).await;
    // The test hook: the confirmation is stored, then the task's process dies, every time.
    let order = settle_shipped_to(&product, 2, "tok_visa", "crash-after-confirm").await;
    assert_settled(&order, "SHIPPED", None, &sku, 3, Some("AUTHORIZED")).await;
    assert_eq!(
        saga_run(id(&order)).await,
        run(
            "SUCCEEDED",
            &[
                ("ReserveStock", 1),
                ("AuthorizePayment", 1),
                ("ConfirmOrder", 4),
                ("CheckOrder", 1),
                ("WasOrderConfirmed", 0),
                ("OrderConfirmedAfterAll", 0)
            ]
        )
    );
    assert_eq!(provider_books(id(&order)).await, (2 * 1999, 0, 0));
}

/// The saga starter's metric lines (EMF on its log) for `order_id`, as JSON.
fn saga_starts(log_dir: &std::path::Path, order_id: &str) -> Vec<Value> {
    std::fs::read_to_string(log_dir.join("OrdersSagaStarterFunction.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["order_id"] == order_id && line.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn the_same_order_placed_event_twice_is_delivered_twice_and_runs_one_saga() {
    let system = system();
    let Some(log_dir) = &system.log_dir else {
        return; // A stack started elsewhere keeps the starter's log elsewhere.
    };
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_visa").await;
    let id = id(&order).to_owned();
    assert_eq!(order["status"], "SHIPPED");

    // Deliver the very same OrderPlaced again, as an at-least-once bus may.
    let original = system
        .wait_for_recorded_event(|event| {
            event["detail-type"] == "OrderPlaced"
                && event["detail"]["data"]["order_id"] == id.as_str()
        })
        .await;
    let event_id = original["detail"]["event_id"].clone();
    let config = system.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let buses = events.list_event_buses().send().await.unwrap();
    let bus = buses
        .event_buses()
        .iter()
        .filter_map(|b| b.name())
        .find(|name| name.starts_with("shop-"))
        .unwrap()
        .to_owned();
    events
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(&bus)
                .source("shop.orders")
                .detail_type("OrderPlaced")
                .detail(original["detail"].to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();

    // The starter received the same event (same id) a second time and started nothing.
    let started = Instant::now();
    let starts = loop {
        let starts = saga_starts(log_dir, &id);
        if starts.iter().any(|s| s.get("SagaAlreadyStarted").is_some()) {
            break starts;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "the duplicate never reached the saga starter: {starts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let outcomes: Vec<(&str, &Value)> = starts
        .iter()
        .map(|s| {
            let outcome = if s.get("SagasStarted").is_some() {
                "SagasStarted"
            } else {
                "SagaAlreadyStarted"
            };
            (outcome, &s["event_id"])
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("SagasStarted", &event_id),
            ("SagaAlreadyStarted", &event_id)
        ]
    );
    // The starter's own claim refused it, not Step Functions' names (Express has none).
    assert_eq!(starts[1]["refused_by"], "claim", "{starts:?}");

    assert_eq!(
        executions_of(std::slice::from_ref(&id)).await,
        1,
        "one execution per order"
    );
    assert_eq!(available(&sku).await, 4, "one reservation");
    let payment = get(&format!("/payments/{id}"), &system.admin_token).await;
    assert_eq!(payment.body["attempts"], 1, "one authorization");
    assert_eq!(
        payment.body["provider"]["attempts"], 1,
        "the provider asked once"
    );
    assert_eq!(provider_books(&id).await, (1999, 0, 0));
}

#[tokio::test]
async fn twenty_concurrent_orders_for_the_last_five_units_confirm_exactly_five() {
    let token = &system().customer_token;
    let (product, sku) = stocked_product(999, 5).await;
    let body = paid_with(&[(&product, 1)], "tok_visa");
    let placed = futures::future::join_all((0..20).map(|_| place(token, &body, None))).await;
    let mut ids = Vec::new();
    let mut outcomes = Vec::new();
    for reply in placed {
        assert_eq!(reply.status, 202, "{}", reply.body);
        let id = reply.body["order_id"].as_str().unwrap().to_owned();
        let order = order_when(&id, token, |order| {
            order["status"] == "REJECTED" || order["status"] == "SHIPPED"
        })
        .await;
        let payment = orders_common::payment_status(&id).await;
        outcomes.push((
            order["status"].as_str().unwrap().to_owned(),
            order["reason"].as_str().map(str::to_owned),
            payment,
        ));
        ids.push(id);
    }
    let count = |wanted: (&str, Option<&str>, Option<&str>)| {
        outcomes
            .iter()
            .filter(|(status, reason, payment)| {
                (status.as_str(), reason.as_deref(), payment.as_deref()) == wanted
            })
            .count()
    };
    assert_eq!(
        count(("SHIPPED", None, Some("AUTHORIZED"))),
        5,
        "{outcomes:?}"
    );
    assert_eq!(
        count(("REJECTED", Some("OutOfStock"), None)),
        15,
        "{outcomes:?}"
    );
    assert_eq!(executions_of(&ids).await, 20);
    let stock = get(&format!("/inventory/{sku}"), token).await.body;
    assert_eq!(
        (stock["available"].as_i64(), stock["reserved"].as_i64()),
        (Some(0), Some(5)),
        "never below zero"
    );
}

#[tokio::test]
async fn the_saga_runs_as_the_workflow_type_the_stack_was_started_with() {
    let wanted =
        std::env::var(system_tests::SAGA_WORKFLOW_ENV).unwrap_or_else(|_| "STANDARD".to_owned());
    let sfn = aws_sdk_sfn::Client::new(&system().sdk_config().await);
    let arn = if let Some(arn) = &system().place_order_state_machine {
        arn.clone()
    } else {
        let machines = sfn.list_state_machines().send().await.unwrap();
        machines
            .state_machines()
            .iter()
            .find(|m| m.name().ends_with("-PlaceOrderStateMachine"))
            .unwrap()
            .state_machine_arn()
            .to_owned()
    };
    let machine = sfn
        .describe_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(machine.r#type().as_str(), wanted);
}
