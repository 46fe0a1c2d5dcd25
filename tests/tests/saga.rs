//! The place-order saga on devstack, end to end over HTTP: OrderPlaced on the bus starts the
//! state machine, which reserves stock, authorizes payment and confirms, or compensates.
//! Every case checks the order, the stock and the payment together.

#![allow(clippy::unwrap_used)]

mod orders_common;

use orders_common::{
    assert_settled, available, get, order_when, paid_with, place, stocked_product,
};
use serde_json::Value;
use serde_json::json;
use system_tests::system;

/// Places an order of `quantity` units paid with `card_token` and waits for its final state:
/// REJECTED by the saga, or SHIPPED (a confirmed order is shipped by choreography).
async fn settle(product_id: &str, quantity: u32, card_token: &str) -> Value {
    let token = &system().customer_token;
    let placed = place(
        token,
        &paid_with(&[(product_id, quantity)], card_token),
        None,
    )
    .await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    order_when(&id, token, |order| {
        order["status"] == "REJECTED" || order["status"] == "SHIPPED"
    })
    .await
}

#[tokio::test]
async fn a_paid_order_in_stock_is_confirmed_then_shipped_with_stock_reserved_and_payment_authorized()
 {
    let (product, sku) = stocked_product(1999, 10).await;
    let order = settle(&product, 3, "tok_visa").await;
    assert_settled(&order, "SHIPPED", None, &sku, 7, Some("AUTHORIZED")).await;
    let id = order["order_id"].as_str().unwrap();
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
}

#[tokio::test]
async fn a_provider_that_never_answers_rejects_after_the_retries_and_voids_the_payment() {
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
}

#[tokio::test]
async fn a_flaky_provider_is_retried_and_the_order_confirmed() {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_flaky").await;
    assert_settled(&order, "SHIPPED", None, &sku, 4, Some("AUTHORIZED")).await;
}

#[tokio::test]
async fn a_crash_while_confirming_still_ends_the_saga_with_everything_given_back() {
    let system = system();
    let token = &system.customer_token;
    let (product, sku) = stocked_product(1999, 5).await;
    let mut body = paid_with(&[(&product, 2)], "tok_visa");
    // The test hook: confirming this order kills the orders task's process, every time.
    body["shipping_address"]["name"] = json!("crash-on-confirm");
    let id = place(token, &body, None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = order_when(&id, token, |order| order["status"] != "PENDING").await;
    assert_settled(
        &order,
        "REJECTED",
        Some("Runtime.ExitError"),
        &sku,
        5,
        Some("VOIDED"),
    )
    .await;
}

#[tokio::test]
async fn the_same_order_placed_event_twice_runs_one_saga() {
    let system = system();
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_visa").await;
    let id = order["order_id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "SHIPPED");

    // Deliver the very same OrderPlaced again, as an at-least-once bus may.
    let original = system
        .wait_for_recorded_event(|event| {
            event["detail-type"] == "OrderPlaced"
                && event["detail"]["data"]["order_id"] == id.as_str()
        })
        .await;
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
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;

    let sfn = aws_sdk_sfn::Client::new(&config);
    let machines = sfn.list_state_machines().send().await.unwrap();
    let machine = machines
        .state_machines()
        .iter()
        .find(|m| m.name().ends_with("-PlaceOrderStateMachine"))
        .unwrap();
    let executions = sfn
        .list_executions()
        .state_machine_arn(machine.state_machine_arn())
        .send()
        .await
        .unwrap();
    let runs = executions
        .executions()
        .iter()
        .filter(|e| e.name() == id)
        .count();
    assert_eq!(runs, 1, "one execution per order");
    assert_eq!(available(&sku).await, 4, "one reservation");
    let payment = get(&format!("/payments/{id}"), &system.admin_token).await;
    assert_eq!(payment.body["attempts"], 1, "one authorization");
}

#[tokio::test]
async fn twenty_concurrent_orders_for_the_last_five_units_confirm_exactly_five() {
    let token = &system().customer_token;
    let (product, sku) = stocked_product(999, 5).await;
    let body = paid_with(&[(&product, 1)], "tok_visa");
    let placed = futures::future::join_all((0..20).map(|_| place(token, &body, None))).await;
    let mut statuses = Vec::new();
    for reply in placed {
        assert_eq!(reply.status, 202, "{}", reply.body);
        let id = reply.body["order_id"].as_str().unwrap().to_owned();
        let order = order_when(&id, token, |order| {
            order["status"] == "REJECTED" || order["status"] == "SHIPPED"
        })
        .await;
        statuses.push(order["status"].as_str().unwrap().to_owned());
    }
    let confirmed = statuses.iter().filter(|s| *s == "SHIPPED").count();
    let rejected = statuses.iter().filter(|s| *s == "REJECTED").count();
    assert_eq!((confirmed, rejected), (5, 15));
    let stock = get(&format!("/inventory/{sku}"), token).await.body;
    assert_eq!(
        (stock["available"].as_i64(), stock["reserved"].as_i64()),
        (Some(0), Some(5)),
        "never below zero"
    );
}

#[tokio::test]
async fn a_shipped_order_can_no_longer_be_cancelled() {
    let (product, _) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_visa").await;
    assert_eq!(order["status"], "SHIPPED");
    let id = order["order_id"].as_str().unwrap();
    let cancel = orders_common::call(
        reqwest::Method::POST,
        &format!("/orders/{id}/cancel"),
        &system().customer_token,
        None,
        None,
    )
    .await;
    assert_eq!(cancel.status, 409, "{}", cancel.body);
}
