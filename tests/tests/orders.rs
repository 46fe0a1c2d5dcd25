//! Orders over HTTP on devstack: placing, the read model following the event store, the audit
//! trail, replay with `as_of`, ownership, idempotent retries, and OrderPlaced on the bus.

#![allow(clippy::unwrap_used)]

mod orders_common;

use orders_common::{
    another_customer, get, order_body, order_when, place, product, stocked_product,
};
use serde_json::json;
use system_tests::system;

#[tokio::test]
async fn a_placed_order_is_accepted_pending_and_reads_back_with_the_catalogs_prices() {
    let token = &system().customer_token;
    let (kettle, mug) = (product(2999).await, product(899).await);
    let placed = place(token, &order_body(&[(&kettle, 2), (&mug, 1)]), None).await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    assert_eq!(placed.body["status"], "PENDING");
    let id = placed.body["order_id"].as_str().unwrap();

    // The saga moves it on at once; its first state is in the event store.
    let first = get(&format!("/orders/{id}?as_of=1"), token).await;
    assert_eq!(first.body["status"], "PENDING");
    assert_eq!(first.body["total_cents"], 2 * 2999 + 899);
    let view = order_when(id, token, |_| true).await;
    assert_eq!(view["total_cents"], 2 * 2999 + 899);
    let list = get("/orders?limit=100", token).await;
    assert!(
        list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["order_id"] == id)
    );
}

#[tokio::test]
async fn the_trail_has_every_event_in_sequence_with_one_correlation_id_and_as_of_replays_it() {
    let system = system();
    let token = &system.customer_token;
    let (item, _) = stocked_product(1500, 10).await;
    let id = place(token, &order_body(&[(&item, 1)]), None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The saga confirms it; shipping's answer ships it.
    let view = order_when(&id, token, |o| o["status"] == "SHIPPED").await;
    assert_eq!(view["version"], 3);
    // A retried ConfirmOrder task (as Step Functions would retry it) changes nothing.
    let repeated = system
        .invoke(
            "OrdersTasksFunction",
            &json!({"task": "ConfirmOrder", "order_id": id}),
        )
        .await
        .unwrap();
    assert_eq!(repeated["version"], 3);

    let trail = get(&format!("/orders/{id}/events"), token).await;
    let entries = trail.body.as_array().unwrap();
    let sequence: Vec<(u64, &str)> = entries
        .iter()
        .map(|e| (e["sequence"].as_u64().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sequence,
        [
            (1, "OrderPlaced"),
            (2, "OrderConfirmed"),
            (3, "OrderShipped")
        ]
    );
    assert!(entries.iter().all(|e| e["correlation_id"] == id.as_str()));

    for (n, status) in [(1, "PENDING"), (2, "CONFIRMED"), (3, "SHIPPED")] {
        assert_eq!(
            get(&format!("/orders/{id}?as_of={n}"), token).await.body["status"],
            status
        );
    }
}

#[tokio::test]
async fn a_task_on_an_order_in_the_wrong_state_fails_with_a_typed_error() {
    let system = system();
    let item = product(700).await;
    let id = place(&system.customer_token, &order_body(&[(&item, 1)]), None)
        .await
        .body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    system
        .invoke(
            "OrdersTasksFunction",
            &json!({"task": "RejectOrder", "order_id": id, "reason": "OutOfStock"}),
        )
        .await
        .unwrap();
    let error = system
        .invoke(
            "OrdersTasksFunction",
            &json!({"task": "ConfirmOrder", "order_id": id}),
        )
        .await
        .unwrap_err();
    assert_eq!(error["errorType"], "InvalidOrderState");
}

#[tokio::test]
async fn another_customer_gets_404_for_my_order() {
    let mine = &system().customer_token;
    let item = product(500).await;
    let id = place(mine, &order_body(&[(&item, 1)]), None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    order_when(&id, mine, |_| true).await;
    let theirs = another_customer().await;
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{id}/events"),
        format!("/orders/{id}?as_of=1"),
    ] {
        assert_eq!(get(&path, &theirs).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_same_order() {
    let token = &system().customer_token;
    let item = product(1200).await;
    let body = order_body(&[(&item, 3)]);
    let key = uuid::Uuid::new_v4().to_string();
    let first = place(token, &body, Some(&key)).await;
    let retry = place(token, &body, Some(&key)).await;
    assert_eq!((first.status, retry.status), (202, 202));
    assert_eq!(first.body["order_id"], retry.body["order_id"]);
    let other = place(token, &order_body(&[(&item, 4)]), Some(&key)).await;
    assert_eq!(other.status, 422);
}

#[tokio::test]
async fn order_placed_reaches_a_bus_subscriber_and_satisfies_its_schema() {
    let system = system();
    let item = product(3300).await;
    let id = place(&system.customer_token, &order_body(&[(&item, 1)]), None)
        .await
        .body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = system
        .wait_for_recorded_event(|event| {
            event["detail-type"] == "OrderPlaced"
                && event["detail"]["data"]["order_id"] == id.as_str()
        })
        .await;
    assert_eq!(event["source"], "shop.orders");
    assert_eq!(event["detail"]["correlation_id"], id.as_str());
    assert_eq!(event["detail"]["sequence"], 1);
    shop_testkit::schemas::assert_valid(&event["detail"]);
}
