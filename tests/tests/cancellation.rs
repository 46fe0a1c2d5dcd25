//! Cancelling an order, choreographed over the bus: OrderCancelled → inventory releases
//! (StockReleased), payments refunds (PaymentRefunded), shipping cancels (ShipmentCancelled),
//! and orders records the cancellation complete once all three answered.
//!
//! Shipping answers OrderConfirmed within milliseconds, so the order to cancel asks shipping's
//! test hook to hold its confirmation until the cancellation arrives (its customer's id marks
//! it; no other order is held). The test waits on the event store, which is current as soon
//! as a command is stored, and on nothing timed, so it runs beside any other load.

#![allow(clippy::unwrap_used)]

mod orders_common;

use orders_common::{
    SagaRun, assert_settled, call, customer_held_by_shipping, events_when, get, order_when,
    paid_with, place, provider_books, saga_run, stocked_product,
};
use system_tests::system;

async fn cancel(id: &str, token: &str) -> orders_common::Reply {
    call(
        reqwest::Method::POST,
        &format!("/orders/{id}/cancel"),
        token,
        None,
        None,
    )
    .await
}

#[tokio::test]
async fn cancelling_a_confirmed_order_gives_back_stock_money_and_shipment() {
    let token = &customer_held_by_shipping();
    let (product, sku) = stocked_product(1999, 5).await;
    let placed = place(token, &paid_with(&[(&product, 2)], "tok_visa"), None).await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    events_when(&id, token, |types| {
        types.iter().any(|t| t == "OrderConfirmed")
    })
    .await;

    let cancelled = cancel(&id, token).await;
    assert_eq!(cancelled.status, 202, "{}", cancelled.body);

    // Inventory, payments and shipping each undo their part and say so; orders records it.
    let types = events_when(&id, token, |types| {
        types
            .last()
            .is_some_and(|t| t == "OrderCancellationCompleted")
    })
    .await;
    assert_eq!(
        types[..3],
        ["OrderPlaced", "OrderConfirmed", "OrderCancelled"]
    );
    assert!(!types.iter().any(|t| t == "OrderShipped"), "{types:?}");
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
    assert_eq!(
        provider_books(&id).await,
        (2 * 1999, 0, 2 * 1999),
        "the hold refunded in full"
    );
    assert_eq!(
        saga_run(&id).await,
        SagaRun {
            status: "SUCCEEDED".into(),
            steps: vec![
                ("ReserveStock".into(), 1),
                ("AuthorizePayment".into(), 1),
                ("ConfirmOrder".into(), 1)
            ],
        },
        "the saga confirmed it; the cancellation is choreography"
    );
}

#[tokio::test]
async fn a_shipped_order_can_no_longer_be_cancelled() {
    let token = &system().customer_token;
    let (product, _) = stocked_product(1999, 5).await;
    let placed = place(token, &paid_with(&[(&product, 1)], "tok_visa"), None).await;
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    events_when(&id, token, |types| {
        types.iter().any(|t| t == "OrderShipped")
    })
    .await;
    let refused = cancel(&id, token).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
}
