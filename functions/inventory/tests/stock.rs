//! Stock and reservations against DynamoDB on moto: all-or-nothing reservations, never below
//! zero under concurrency, idempotent reserve and release.

#![allow(clippy::unwrap_used)]

use inventory::{
    adapters::Stock,
    domain::{Line, Released, Reserved},
    entrypoints::tasks::{self, Task},
    service::{Inventory, InventoryError},
};
use shop_testkit::{Moto, stack};

async fn stock() -> Inventory {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let stock = Stock::new(
        aws_sdk_dynamodb::Client::new(&config),
        stack::name(&resolver, "StockTable"),
        stack::name(&resolver, "ReservationsTable"),
    );
    stock.connect().await.unwrap();
    Inventory { stock }
}

fn line(sku: &str, quantity: i64) -> Line {
    Line {
        sku: sku.into(),
        quantity,
    }
}

#[tokio::test]
async fn a_reservation_takes_every_line_or_none() {
    let stock = stock().await;
    stock.set_on_hand("KETTLE-1", 5).await.unwrap();
    stock.set_on_hand("MUG-1", 1).await.unwrap();

    let short = stock
        .reserve("o-1", &[line("KETTLE-1", 2), line("MUG-1", 2)])
        .await;
    assert!(
        matches!(short, Err(InventoryError::OutOfStock(ref skus)) if skus == &["MUG-1"]),
        "{short:?}"
    );
    assert_eq!(
        stock.level("KETTLE-1").await.unwrap().available(),
        5,
        "nothing was taken"
    );

    assert_eq!(
        stock
            .reserve("o-2", &[line("KETTLE-1", 2), line("MUG-1", 1)])
            .await
            .unwrap(),
        Reserved::Now
    );
    let kettle = stock.level("KETTLE-1").await.unwrap();
    assert_eq!(
        (kettle.on_hand, kettle.reserved, kettle.available()),
        (5, 2, 3)
    );
}

#[tokio::test]
async fn an_unknown_sku_is_out_of_stock() {
    let stock = stock().await;
    assert!(matches!(
        stock.reserve("o-1", &[line("NEVER-STOCKED", 1)]).await,
        Err(InventoryError::OutOfStock(_))
    ));
}

#[tokio::test]
async fn concurrent_orders_for_the_last_units_never_take_stock_below_zero() {
    let stock = stock().await;
    stock.set_on_hand("LAST-5", 5).await.unwrap();
    let attempts = (0..20).map(|n| {
        let stock = stock.clone();
        async move { stock.reserve(&format!("o-{n}"), &[line("LAST-5", 1)]).await }
    });
    let results = futures::future::join_all(attempts).await;
    let reserved = results
        .iter()
        .filter(|r| matches!(r, Ok(Reserved::Now)))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(InventoryError::OutOfStock(_))))
        .count();
    assert_eq!((reserved, refused), (5, 15), "{results:?}");
    let level = stock.level("LAST-5").await.unwrap();
    assert_eq!((level.reserved, level.available()), (5, 0));
}

#[tokio::test]
async fn reserving_again_for_the_same_order_takes_nothing_more() {
    let stock = stock().await;
    stock.set_on_hand("KETTLE-1", 5).await.unwrap();
    assert_eq!(
        stock.reserve("o-1", &[line("KETTLE-1", 2)]).await.unwrap(),
        Reserved::Now
    );
    assert_eq!(
        stock.reserve("o-1", &[line("KETTLE-1", 2)]).await.unwrap(),
        Reserved::Already
    );
    assert_eq!(stock.level("KETTLE-1").await.unwrap().reserved, 2);
}

#[tokio::test]
async fn releasing_gives_back_only_what_the_order_reserved_and_only_once() {
    let stock = stock().await;
    stock.set_on_hand("KETTLE-1", 5).await.unwrap();
    stock.reserve("o-1", &[line("KETTLE-1", 2)]).await.unwrap();
    stock.reserve("o-2", &[line("KETTLE-1", 1)]).await.unwrap();

    assert_eq!(
        stock.release("o-1").await.unwrap(),
        Released::Now(vec![line("KETTLE-1", 2)])
    );
    assert_eq!(stock.release("o-1").await.unwrap(), Released::Nothing);
    let level = stock.level("KETTLE-1").await.unwrap();
    assert_eq!(
        (level.reserved, level.available()),
        (1, 4),
        "o-2 keeps its unit"
    );
}

#[tokio::test]
async fn releasing_an_order_that_reserved_nothing_blocks_a_late_reservation() {
    let stock = stock().await;
    stock.set_on_hand("KETTLE-1", 5).await.unwrap();
    assert_eq!(stock.release("o-late").await.unwrap(), Released::Nothing);
    assert!(matches!(
        stock.reserve("o-late", &[line("KETTLE-1", 1)]).await,
        Err(InventoryError::AlreadyReleased(_))
    ));
    assert_eq!(stock.level("KETTLE-1").await.unwrap().available(), 5);
}

#[tokio::test]
async fn stock_cannot_be_set_below_what_is_reserved() {
    let stock = stock().await;
    stock.set_on_hand("KETTLE-1", 5).await.unwrap();
    stock.reserve("o-1", &[line("KETTLE-1", 3)]).await.unwrap();
    assert!(matches!(
        stock.set_on_hand("KETTLE-1", 2).await,
        Err(InventoryError::BelowReserved { reserved: 3, .. })
    ));
    let level = stock.set_on_hand("KETTLE-1", 10).await.unwrap();
    assert_eq!(
        (level.on_hand, level.reserved, level.available()),
        (10, 3, 7)
    );
}

#[tokio::test]
async fn the_reserve_task_refuses_with_the_out_of_stock_error_type() {
    let stock = stock().await;
    stock.set_on_hand("KETTLE-1", 1).await.unwrap();
    let task: Task = serde_json::from_value(serde_json::json!({
        "task": "ReserveStock", "order_id": "o-1", "lines": [{"sku": "KETTLE-1", "quantity": 2}]
    }))
    .unwrap();
    let error = tasks::run(&stock, task).await.unwrap_err();
    assert_eq!(error.error_type, "OutOfStock");
    let release: Task =
        serde_json::from_value(serde_json::json!({"task": "ReleaseStock", "order_id": "o-9"}))
            .unwrap();
    assert_eq!(
        tasks::run(&stock, release).await.unwrap()["released"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn a_release_is_announced_on_the_reservations_stream_as_stock_released() {
    use inventory::entrypoints::stream::ReservationEvents;
    use shop_events::StreamMapper;
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let stock = Inventory {
        stock: Stock::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "StockTable"),
            stack::name(&resolver, "ReservationsTable"),
        ),
    };
    stock.set_on_hand("KETTLE-1", 5).await.unwrap();
    stock.reserve("o-1", &[line("KETTLE-1", 2)]).await.unwrap();
    stock.release("o-1").await.unwrap();
    stock.release("o-never").await.unwrap();

    let stream_arn = resolver
        .get(
            "ReservationsTable",
            devstack::template::Attribute::StreamArn,
        )
        .unwrap();
    let batch =
        shop_testkit::streams::read_all(&aws_sdk_dynamodbstreams::Client::new(&config), stream_arn)
            .await;
    let announced: Vec<serde_json::Value> = batch
        .records
        .iter()
        .filter_map(|record| ReservationEvents.map(record).unwrap())
        .map(|envelope| serde_json::to_value(envelope).unwrap())
        .collect();
    assert_eq!(announced.len(), 2, "{announced:#?}");
    assert_eq!(
        announced[0]["data"]["lines"],
        serde_json::json!([{"sku": "KETTLE-1", "quantity": 2}])
    );
    assert_eq!(announced[1]["data"]["lines"], serde_json::json!([]));
    for detail in &announced {
        shop_testkit::schemas::assert_valid(detail);
    }
}
