//! Rebuilding orders' read model from the event store on a running system (in a test process
//! of its own: a rebuild drops every view for a moment).

#![allow(clippy::unwrap_used)]

mod orders_common;

use orders_common::{get, order_body, order_when, place, stocked_product};
use serde_json::json;
use system_tests::system;

#[tokio::test]
async fn a_rebuild_reproduces_the_read_model_exactly() {
    let system = system();
    let token = &system.customer_token;
    let (item, _) = stocked_product(2100, 100).await;
    let mut ids = Vec::new();
    for quantity in 1..=3 {
        ids.push(
            place(token, &order_body(&[(&item, quantity)]), None)
                .await
                .body["order_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Let the saga settle every order, so the views hold still.
    let mut before = Vec::new();
    for id in &ids {
        before.push(order_when(id, token, |o| o["status"] == "SHIPPED").await);
    }

    let rebuilt = system
        .invoke("OrdersRebuildFunction", &json!({"mode": "rebuild"}))
        .await
        .unwrap();
    assert!(rebuilt["orders"].as_u64().unwrap() >= 3, "{rebuilt}");
    let verified = system
        .invoke("OrdersRebuildFunction", &json!({"mode": "verify"}))
        .await
        .unwrap();
    assert_eq!(verified["differences"], json!([]), "{verified}");

    for (id, view) in ids.iter().zip(&before) {
        assert_eq!(&get(&format!("/orders/{id}"), token).await.body, view);
    }
}
