//! The place-order saga on devstack, end to end over HTTP: OrderPlaced on the bus starts the
//! state machine, which reserves stock, authorizes payment and confirms, or compensates.
//! Every case checks the order, the stock and the payment together.

#![allow(clippy::unwrap_used)]

mod orders_common;

use orders_common::{get, order_when, paid_with, place, stocked_product};
use serde_json::Value;
use system_tests::system;

/// Places an order of `quantity` units paid with `card_token` and waits for the saga's end.
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
    order_when(&id, token, |order| order["status"] != "PENDING").await
}

async fn available(sku: &str) -> i64 {
    get(&format!("/inventory/{sku}"), &system().customer_token)
        .await
        .body["available"]
        .as_i64()
        .unwrap()
}

async fn payment_status(order_id: &str) -> Option<String> {
    let reply = get(&format!("/payments/{order_id}"), &system().admin_token).await;
    reply.body["status"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_paid_order_in_stock_is_confirmed_with_stock_reserved_and_payment_authorized() {
    let (product, sku) = stocked_product(1999, 10).await;
    let order = settle(&product, 3, "tok_visa").await;
    assert_eq!(order["status"], "CONFIRMED", "{order}");
    assert_eq!(available(&sku).await, 7);
    assert_eq!(
        payment_status(order["order_id"].as_str().unwrap())
            .await
            .as_deref(),
        Some("AUTHORIZED")
    );
}

#[tokio::test]
async fn an_order_beyond_the_stock_is_rejected_out_of_stock_without_a_payment() {
    let (product, sku) = stocked_product(1999, 2).await;
    let order = settle(&product, 3, "tok_visa").await;
    assert_eq!(
        (order["status"].as_str(), order["reason"].as_str()),
        (Some("REJECTED"), Some("OutOfStock"))
    );
    assert_eq!(available(&sku).await, 2, "stock unchanged");
    assert_eq!(
        payment_status(order["order_id"].as_str().unwrap()).await,
        None,
        "no payment"
    );
}

#[tokio::test]
async fn a_declined_card_rejects_the_order_and_releases_the_stock() {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 2, "tok_declined").await;
    assert_eq!(
        (order["status"].as_str(), order["reason"].as_str()),
        (Some("REJECTED"), Some("PaymentDeclined"))
    );
    assert_eq!(available(&sku).await, 5, "stock released");
    assert_eq!(
        payment_status(order["order_id"].as_str().unwrap())
            .await
            .as_deref(),
        Some("VOIDED")
    );
}

#[tokio::test]
async fn a_provider_that_never_answers_rejects_after_the_retries_and_voids_the_payment() {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_timeout").await;
    assert_eq!(
        (order["status"].as_str(), order["reason"].as_str()),
        (Some("REJECTED"), Some("PaymentTimeout"))
    );
    assert_eq!(available(&sku).await, 5, "stock released");
    assert_eq!(
        payment_status(order["order_id"].as_str().unwrap())
            .await
            .as_deref(),
        Some("VOIDED")
    );
}

#[tokio::test]
async fn a_flaky_provider_is_retried_and_the_order_confirmed() {
    let (product, sku) = stocked_product(1999, 5).await;
    let order = settle(&product, 1, "tok_flaky").await;
    assert_eq!(order["status"], "CONFIRMED", "{order}");
    assert_eq!(available(&sku).await, 4);
    assert_eq!(
        payment_status(order["order_id"].as_str().unwrap())
            .await
            .as_deref(),
        Some("AUTHORIZED")
    );
}
