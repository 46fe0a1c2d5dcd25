//! The event store and the projector against DynamoDB on moto: optimistic concurrency, atomic
//! appends, idempotent and order-independent projection, rebuild and verify.

#![allow(clippy::unwrap_used)]

mod common;

use orders::{
    adapters::{AppendError, StoredEvent},
    domain::{OrderCommand, OrderStatus},
    entrypoints::{projector::Projection, rebuild::Rebuild},
    service::OrdersError,
};
use shop_testkit::streams;
use time::OffsetDateTime;

fn confirmed_at(order_id: &str, sequence: u64) -> StoredEvent {
    StoredEvent {
        order_id: order_id.to_owned(),
        sequence,
        event_type: "OrderConfirmed".to_owned(),
        data: "{}".to_owned(),
        occurred_at: OffsetDateTime::now_utc(),
        customer_id: "c-1".to_owned(),
        correlation_id: order_id.to_owned(),
        causation_id: format!("writer-{sequence}"),
    }
}

#[tokio::test]
async fn concurrent_appends_at_one_version_let_exactly_one_win() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let attempts = (0..8).map(|_| {
        let store = setup.orders.store.clone();
        let event = confirmed_at(&order_id, 2);
        async move { store.append(&[event], None).await }
    });
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(AppendError::Conflict)))
        .count();
    assert_eq!((won, lost), (1, 7));
    assert_eq!(
        setup
            .orders
            .store
            .load(&order_id, None)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn racing_commands_retry_from_fresh_state_and_cannot_both_win() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let reject_command = OrderCommand::Reject {
        reason: "OutOfStock".into(),
    };
    let confirm = setup
        .orders
        .execute(&order_id, &OrderCommand::Confirm, "saga-a");
    let reject = setup.orders.execute(&order_id, &reject_command, "saga-b");
    let (confirmed, rejected) = tokio::join!(confirm, reject);
    let events = setup.orders.store.load(&order_id, None).await.unwrap();
    assert_eq!(
        events.len(),
        2,
        "exactly one of the two commands took effect"
    );
    match events[1].event_type.as_str() {
        "OrderConfirmed" => {
            assert_eq!(confirmed.unwrap().status, OrderStatus::Confirmed);
            assert!(matches!(rejected, Err(OrdersError::Refused(_))));
        }
        "OrderRejected" => {
            assert_eq!(rejected.unwrap().status, OrderStatus::Rejected);
            assert!(matches!(confirmed, Err(OrdersError::Refused(_))));
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn a_25_event_append_is_all_or_nothing() {
    let setup = common::setup().await;
    let store = &setup.orders.store;
    let order_id = setup.place("c-1").await;
    // Another writer already took sequence 14.
    store
        .append(&[confirmed_at(&order_id, 14)], None)
        .await
        .unwrap();

    let batch: Vec<StoredEvent> = (2..=26)
        .map(|sequence| confirmed_at(&order_id, sequence))
        .collect();
    assert_eq!(batch.len(), 25);
    assert!(matches!(
        store.append(&batch, None).await,
        Err(AppendError::Conflict)
    ));
    let stored: Vec<u64> = store
        .load(&order_id, None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.sequence)
        .collect();
    assert_eq!(stored, [1, 14], "none of the 25 was written");

    let other = setup.place("c-1").await;
    let batch: Vec<StoredEvent> = (2..=26)
        .map(|sequence| confirmed_at(&other, sequence))
        .collect();
    store.append(&batch, None).await.unwrap();
    assert_eq!(store.load(&other, None).await.unwrap().len(), 26);
}

#[tokio::test]
async fn projecting_twice_or_out_of_order_leaves_the_same_view() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    for command in [
        OrderCommand::Confirm,
        OrderCommand::Ship {
            shipment_id: "s-1".into(),
        },
    ] {
        setup
            .orders
            .execute(&order_id, &command, "test")
            .await
            .unwrap();
    }
    // The real stream, as Lambda would deliver it.
    let stream_arn = setup
        .resolver
        .get("OrderEventsTable", devstack::template::Attribute::StreamArn)
        .unwrap()
        .to_owned();
    let streams_client = aws_sdk_dynamodbstreams::Client::new(&setup.config);
    let batch = streams::read_all(&streams_client, &stream_arn).await;
    assert_eq!(batch.records.len(), 3);

    for _ in 0..2 {
        let response = setup.projector.handle(batch.clone()).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let in_order = setup.orders.views.get(&order_id).await.unwrap().unwrap();
    assert_eq!(
        (in_order.status, in_order.version),
        (OrderStatus::Shipped, 3)
    );
    let totals = setup
        .orders
        .views
        .totals("c-1", "EUR")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (totals.order_count, totals.total_cents),
        (1, 6897),
        "counted once"
    );

    // A second read model fed the same events newest first.
    setup.orders.views.clear().await.unwrap();
    let events = setup.orders.store.load(&order_id, None).await.unwrap();
    let outcomes: Vec<Projection> = {
        let mut outcomes = Vec::new();
        for event in events.iter().rev() {
            outcomes.push(setup.projector.project(event).await.unwrap());
        }
        outcomes
    };
    assert_eq!(
        outcomes,
        [
            Projection::CaughtUp { from: 0 },
            Projection::Duplicate,
            Projection::Duplicate
        ]
    );
    assert_eq!(
        setup.orders.views.get(&order_id).await.unwrap().unwrap(),
        in_order
    );
}

#[tokio::test]
async fn a_rebuild_reproduces_the_read_model_and_verify_finds_tampering() {
    let setup = common::setup().await;
    let mut ids = Vec::new();
    for customer in ["c-1", "c-1", "c-2"] {
        let id = setup.place(customer).await;
        setup
            .orders
            .execute(&id, &OrderCommand::Confirm, "test")
            .await
            .unwrap();
        setup.project(&id).await;
        ids.push(id);
    }
    let before: Vec<_> = {
        let mut views = setup.orders.views.all_views().await.unwrap();
        views.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        views
    };
    let rebuild = Rebuild {
        store: setup.orders.store.clone(),
        views: setup.orders.views.clone(),
    };
    let report = rebuild.rebuild(|_| {}).await.unwrap();
    assert_eq!((report.orders, report.events), (3, 6));
    let mut after = setup.orders.views.all_views().await.unwrap();
    after.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    assert_eq!(after, before);
    assert!(rebuild.verify(|_| {}).await.unwrap().differences.is_empty());
    let totals = setup
        .orders
        .views
        .totals("c-1", "EUR")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(totals.order_count, 2);

    // A view that drifted from its events is reported.
    let mut drifted = after[0].clone();
    drifted.version += 1;
    drifted.status = OrderStatus::Cancelled;
    setup.orders.views.put(&drifted).await.unwrap();
    let report = rebuild.verify(|_| {}).await.unwrap();
    assert_eq!(report.differences.len(), 1);
    assert!(report.differences[0].starts_with(&drifted.order_id));
}
