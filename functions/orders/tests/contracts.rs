//! The integration events orders publishes satisfy their schemas in `events/schemas/`.

#![allow(clippy::unwrap_used)]

mod common;

use orders::{domain::OrderCommand, entrypoints::stream};
use shop_testkit::schemas;

#[tokio::test]
async fn every_event_of_an_orders_life_satisfies_its_schema() {
    let setup = common::setup().await;
    let shipped = setup.place("c-1").await;
    let cancelled = setup.place("c-1").await;
    let rejected = setup.place("c-1").await;
    for (id, commands) in [
        (
            &shipped,
            vec![
                OrderCommand::Confirm,
                OrderCommand::Ship {
                    shipment_id: "s-1".into(),
                },
            ],
        ),
        (
            &cancelled,
            vec![
                OrderCommand::Confirm,
                OrderCommand::Cancel {
                    reason: "customer".into(),
                },
                OrderCommand::AcknowledgeCancellation {
                    by: "inventory".into(),
                },
                OrderCommand::AcknowledgeCancellation {
                    by: "payments".into(),
                },
                OrderCommand::AcknowledgeCancellation {
                    by: "shipping".into(),
                },
            ],
        ),
        (
            &rejected,
            vec![OrderCommand::Reject {
                reason: "OutOfStock".into(),
            }],
        ),
    ] {
        for command in commands {
            setup.orders.execute(id, &command, "test").await.unwrap();
        }
    }
    let mut types = Vec::new();
    for id in [&shipped, &cancelled, &rejected] {
        for event in setup.orders.store.load(id, None).await.unwrap() {
            let detail = serde_json::to_value(stream::envelope(&event).unwrap()).unwrap();
            schemas::assert_valid(&detail);
            assert_eq!(detail["correlation_id"], id.as_str());
            types.push(detail["type"].as_str().unwrap().to_owned());
        }
    }
    types.sort();
    types.dedup();
    assert_eq!(
        types,
        [
            "CancellationAcknowledged",
            "OrderCancellationCompleted",
            "OrderCancelled",
            "OrderConfirmed",
            "OrderPlaced",
            "OrderRejected",
            "OrderShipped"
        ]
    );
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(
        shop_testkit::workspace_root()
            .join("events/samples")
            .join(name),
    )
    .unwrap()
}

#[test]
fn the_stream_sample_maps_to_valid_integration_events() {
    use shop_events::StreamMapper;
    let event: aws_lambda_events::dynamodb::Event =
        serde_json::from_str(&sample("orders-events-stream.json")).unwrap();
    for record in &event.records {
        let envelope = stream::OrderEvents.map(record).unwrap().unwrap();
        schemas::assert_valid(&serde_json::to_value(envelope).unwrap());
    }
}

#[test]
fn the_catalog_samples_are_read_by_the_catalog_sync_inbox() {
    use orders::entrypoints::bus::catalog_sync::CatalogProducts;
    use shop_events::Delivery;
    for (name, sequence) in [
        ("eventbridge.catalog-1-ProductCreated.json", 1),
        ("eventbridge.catalog-2-ProductUpdated.json", 2),
        ("eventbridge.catalog-3-ProductDiscontinued.json", 3),
    ] {
        let event = serde_json::from_str(&sample(name)).unwrap();
        let delivery = Delivery::<CatalogProducts>::read(event)
            .unwrap_or_else(|rejected| panic!("{name}: {rejected}"));
        assert_eq!(delivery.sequence, sequence, "{name}");
    }
}

#[test]
fn the_http_and_task_samples_are_what_their_triggers_deliver() {
    let request = lambda_http::request::from_str(&sample("orders-http.place-order.json")).unwrap();
    assert_eq!(request.uri().path(), "/orders");
    for name in [
        "orders-tasks.confirm-order.json",
        "orders-tasks.reject-order.json",
    ] {
        serde_json::from_str::<orders::entrypoints::tasks::Task>(&sample(name)).unwrap();
    }
}
