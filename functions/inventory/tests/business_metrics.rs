//! The business metrics inventory emits, against DynamoDB on moto: a reservation refused for
//! lack of stock is a stock-out, and the saga's ReleaseStock that gave stock back is one
//! compensation; a release that found nothing, a repeat, or a cancelled order's release is none.

#![allow(clippy::unwrap_used)]

use inventory::{
    adapters::Stock,
    entrypoints::{
        bus::{self, InventoryInbox},
        tasks::{self, Task},
    },
    service::Inventory,
};
use serde_json::json;
use shop_events::{Delivery, Envelope};
use shop_observability::{
    capture::{CapturedMetrics, Datum},
    metric_names::{COMPENSATIONS, STOCK_OUTS},
};
use shop_testkit::{Moto, stack};

const INVENTORY: (&str, &str) = ("service", "inventory");

async fn inventory() -> Inventory {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let stock = Stock::new(
        aws_sdk_dynamodb::Client::new(&config),
        stack::name(&resolver, "StockTable"),
        stack::name(&resolver, "ReservationsTable"),
    );
    Inventory { stock }
}

fn task(task: serde_json::Value) -> Task {
    serde_json::from_value(task).unwrap()
}

fn reserve(order_id: &str, sku: &str, quantity: i64) -> Task {
    task(json!({
        "task": "ReserveStock", "order_id": order_id,
        "lines": [{"sku": sku, "quantity": quantity}]
    }))
}

fn release(order_id: &str) -> Task {
    task(json!({"task": "ReleaseStock", "order_id": order_id}))
}

#[tokio::test]
async fn a_reservation_refused_for_lack_of_stock_is_one_stock_out_and_a_reservation_is_none() {
    let inventory = inventory().await;
    inventory.set_on_hand("MUG-1", 1).await.unwrap();
    let (captured, _guard) = CapturedMetrics::start();

    let refused = tasks::run(&inventory, reserve("o-short", "MUG-1", 2)).await;
    tasks::run(&inventory, reserve("o-fits", "MUG-1", 1))
        .await
        .unwrap();

    assert_eq!(refused.unwrap_err().error_type, "OutOfStock");
    assert_eq!(
        captured.data(STOCK_OUTS.name),
        [Datum::new(&[INVENTORY], 1.0)]
    );
    let document = &captured.documents()[0];
    assert_eq!(
        (&document["order_id"], &document["skus"]),
        (&json!("o-short"), &json!(["MUG-1"]))
    );
}

#[tokio::test]
async fn releasing_a_reservation_is_one_compensation_and_a_repeat_or_a_release_of_nothing_none() {
    let inventory = inventory().await;
    inventory.set_on_hand("KETTLE-1", 5).await.unwrap();
    tasks::run(&inventory, reserve("o-1", "KETTLE-1", 2))
        .await
        .unwrap();
    let (captured, _guard) = CapturedMetrics::start();

    for order_id in ["o-1", "o-1", "o-never-reserved"] {
        tasks::run(&inventory, release(order_id)).await.unwrap();
    }

    assert_eq!(
        captured.data(COMPENSATIONS.name),
        [Datum::new(&[INVENTORY, ("step", "ReleaseStock")], 1.0)]
    );
    assert_eq!(captured.documents()[0]["order_id"], "o-1");
}

#[tokio::test]
async fn a_cancelled_orders_stock_going_back_is_no_compensation() {
    let inventory = inventory().await;
    inventory.set_on_hand("KETTLE-1", 5).await.unwrap();
    tasks::run(&inventory, reserve("o-1", "KETTLE-1", 2))
        .await
        .unwrap();
    let (captured, _guard) = CapturedMetrics::start();

    let cancelled = Delivery {
        event_id: Envelope::event_id_for("shop.orders", "o-1", 3),
        event_type: "OrderCancelled".to_owned(),
        sequence: 3,
        correlation_id: "o-1".to_owned(),
        occurred_at: time::OffsetDateTime::now_utc(),
        event: InventoryInbox::OrderCancelled {
            order_id: "o-1".to_owned(),
        },
    };
    bus::handle(&inventory, cancelled).await.unwrap();

    assert_eq!(inventory.level("KETTLE-1").await.unwrap().reserved, 0);
    assert!(
        captured.documents().is_empty(),
        "{:?}",
        captured.documents()
    );
}
