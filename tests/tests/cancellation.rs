//! Cancelling a confirmed order, choreographed over the bus: OrderCancelled → inventory
//! releases (StockReleased), payments refunds (PaymentRefunded), shipping cancels
//! (ShipmentCancelled), and orders records the cancellation complete once all three answered.
//! In a test process of its own: the saga suite's parallel load would crowd its timing window.

#![allow(clippy::unwrap_used)]

mod orders_common;

use orders_common::{assert_settled, get, order_when, paid_with, place, stocked_product};
use system_tests::system;

#[tokio::test]
async fn cancelling_a_confirmed_order_gives_back_stock_money_and_shipment() {
    let token = &system().customer_token;
    let (product, sku) = stocked_product(1999, 5).await;
    let placed = place(token, &paid_with(&[(&product, 2)], "tok_visa"), None).await;
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    // Shipping holds OrderConfirmed for a moment on the test stack: the window to cancel.
    order_when(&id, token, |order| order["status"] == "CONFIRMED").await;
    let cancel = orders_common::call(
        reqwest::Method::POST,
        &format!("/orders/{id}/cancel"),
        token,
        None,
        None,
    )
    .await;
    assert_eq!(cancel.status, 202, "{}", cancel.body);

    // Inventory, payments and shipping each undo their part and say so; orders records it.
    let order = order_when(&id, token, |order| order["cancellation_complete"] == true).await;
    assert_settled(
        &order,
        "CANCELLED",
        Some("cancelled by the customer"),
        &sku,
        5,
        Some("REFUNDED"),
    )
    .await;
    let shipment = get(&format!("/shipments/{id}"), token).await.body;
    assert_eq!(shipment["status"], "CANCELLED");
    let trail = get(&format!("/orders/{id}/events"), token).await.body;
    let types: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types[..3],
        ["OrderPlaced", "OrderConfirmed", "OrderCancelled"]
    );
    assert_eq!(types.last(), Some(&"OrderCancellationCompleted"));
}
