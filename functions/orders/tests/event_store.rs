//! The event store and the projector against DynamoDB on moto: optimistic concurrency, atomic
//! appends, idempotent and order-independent projection and totals, parking of records that
//! cannot be projected, rebuild and verify.

#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use orders::{
    adapters::{AppendError, IdempotencyClaim, ReadModel, StoredEvent, event_store::KEY_LIFETIME},
    domain::{OrderCommand, OrderStatus},
    entrypoints::{
        projector::{Projection, Projector},
        rebuild::Rebuild,
    },
    service::{OrdersError, PlaceOrder},
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
async fn every_order_counts_once_in_the_totals_however_the_stream_redelivers_its_records() {
    let setup = common::setup().await;
    let shipped = setup.place("c-1").await;
    for command in [
        OrderCommand::Confirm,
        OrderCommand::Ship {
            shipment_id: "s-1".into(),
        },
    ] {
        setup
            .orders
            .execute(&shipped, &command, "test")
            .await
            .unwrap();
    }
    let confirmed = setup.place("c-1").await;
    setup
        .orders
        .execute(&confirmed, &OrderCommand::Confirm, "test")
        .await
        .unwrap();
    let shipped_events = setup.orders.store.load(&shipped, None).await.unwrap();
    let confirmed_events = setup.orders.store.load(&confirmed, None).await.unwrap();

    // In order, newest first, redelivered from a retry point, each record twice, a gap: every
    // delivery Lambda's retries, bisection and a redrive of a parked record can produce.
    for delivery in [
        &[0, 1, 2][..],
        &[2, 1, 0],
        &[0, 1, 1, 2, 1, 2],
        &[0, 0, 1, 1, 2, 2],
        &[2, 0, 2],
        &[1, 2, 0, 0],
    ] {
        setup.orders.views.clear().await.unwrap();
        for &index in delivery {
            setup
                .projector
                .project(&shipped_events[index])
                .await
                .unwrap();
            setup
                .projector
                .project(&confirmed_events[index.min(1)])
                .await
                .unwrap();
        }
        let totals = setup
            .orders
            .views
            .totals("c-1", "EUR")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (totals.order_count, totals.total_cents),
            (2, 2 * 6897),
            "delivered {delivery:?}"
        );
    }
}

#[tokio::test]
async fn a_count_that_fails_leaves_no_view_behind_so_the_retry_counts_the_order() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let placed = &setup.orders.store.load(&order_id, None).await.unwrap()[0];
    let totals_unreachable = Projector {
        views: ReadModel::new(
            aws_sdk_dynamodb::Client::new(&setup.config),
            common::name(&setup, "OrderViewsTable"),
            "no-such-totals".into(),
        ),
        ..setup.projector.clone()
    };

    assert!(totals_unreachable.project(placed).await.is_err());
    assert!(
        setup.orders.views.get(&order_id).await.unwrap().is_none(),
        "a view without its count would make the retry a duplicate"
    );
    assert_eq!(
        setup.projector.project(placed).await.unwrap(),
        Projection::Applied
    );
    let totals = setup
        .orders
        .views
        .totals("c-1", "EUR")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((totals.order_count, totals.total_cents), (1, 6897));
}

#[tokio::test]
async fn the_totals_item_holds_two_numbers_however_many_orders_it_counts() {
    let setup = common::setup().await;
    for _ in 0..3 {
        let id = setup.place("c-1").await;
        setup.project(&id).await;
    }
    let item = aws_sdk_dynamodb::Client::new(&setup.config)
        .get_item()
        .table_name(common::name(&setup, "CustomerTotalsTable"))
        .key("customer_id", AttributeValue::S("c-1".into()))
        .key("currency", AttributeValue::S("EUR".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let mut attributes: Vec<&str> = item.keys().map(String::as_str).collect();
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        ["currency", "customer_id", "order_count", "total_cents"]
    );
    assert_eq!(item["order_count"], AttributeValue::N("3".into()));
}

#[tokio::test]
async fn a_record_that_is_not_a_stored_event_is_parked_with_its_image_and_the_rest_projected() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    setup
        .orders
        .execute(&order_id, &OrderCommand::Confirm, "test")
        .await
        .unwrap();
    let stream_arn = setup
        .resolver
        .get("OrderEventsTable", devstack::template::Attribute::StreamArn)
        .unwrap()
        .to_owned();
    let batch = streams::read_all(
        &aws_sdk_dynamodbstreams::Client::new(&setup.config),
        &stream_arn,
    )
    .await;
    let mut records = serde_json::to_value(&batch).unwrap();
    records["Records"][0]["dynamodb"]["NewImage"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    let poison = records["Records"][0].clone();

    let response = setup
        .projector
        .handle(serde_json::from_value::<shop_events::StreamBatch>(records).unwrap())
        .await;

    assert!(
        response.batch_item_failures.is_empty(),
        "the shard moves on"
    );
    let view = setup.orders.views.get(&order_id).await.unwrap().unwrap();
    assert_eq!((view.status, view.version), (OrderStatus::Confirmed, 2));
    let parked = setup.parked().await;
    assert_eq!(parked.len(), 1, "{parked:#?}");
    assert_eq!(
        parked[0]["record"], poison,
        "the record as Lambda delivered it"
    );
    assert_eq!(
        parked[0]["record"]["dynamodb"]["NewImage"]["order_id"]["S"],
        order_id.as_str()
    );
    assert_eq!(parked[0]["parked"]["function"], "OrdersProjectorFunction");
}

#[tokio::test]
async fn a_read_model_that_cannot_be_reached_is_retried_and_nothing_parked() {
    let setup = common::setup().await;
    let order_id = setup.place("c-1").await;
    let stream_arn = setup
        .resolver
        .get("OrderEventsTable", devstack::template::Attribute::StreamArn)
        .unwrap()
        .to_owned();
    let batch = streams::read_all(
        &aws_sdk_dynamodbstreams::Client::new(&setup.config),
        &stream_arn,
    )
    .await;
    let first = batch.records[0].change.sequence_number.clone();
    let unreachable = Projector {
        views: ReadModel::new(
            aws_sdk_dynamodb::Client::new(&setup.config),
            "no-such-views".into(),
            "no-such-totals".into(),
        ),
        ..setup.projector.clone()
    };

    let response = unreachable.handle(batch).await;

    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, first);
    assert!(setup.parked().await.is_empty());
    assert!(setup.orders.views.get(&order_id).await.unwrap().is_none());
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

fn with_key(key: &str, request_hash: &str) -> PlaceOrder {
    PlaceOrder {
        idempotency: Some((key.to_owned(), request_hash.to_owned())),
        ..common::kettles_and_a_mug()
    }
}

#[tokio::test]
async fn an_idempotency_key_expires_a_day_after_its_claim() {
    let setup = common::setup().await;
    let placed = setup
        .orders
        .place(&setup.card_tokens, "c-1", with_key("k-1", "hash-a"), "test")
        .await
        .unwrap();
    let claimed_at = setup
        .orders
        .store
        .load(&placed.order_id, None)
        .await
        .unwrap()[0]
        .occurred_at;
    let item = aws_sdk_dynamodb::Client::new(&setup.config)
        .get_item()
        .table_name(common::name(&setup, "OrderIdempotencyTable"))
        .key("key", AttributeValue::S("c-1#k-1".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item["expires_at"],
        AttributeValue::N((claimed_at + KEY_LIFETIME).unix_timestamp().to_string())
    );
}

#[tokio::test]
async fn an_expired_idempotency_key_is_absent_even_before_dynamodb_deletes_it() {
    let setup = common::setup().await;
    let store = &setup.orders.store;
    // A key claimed 25 hours ago, which DynamoDB's TTL has not deleted yet.
    let template = setup.place("c-1").await;
    let mut placed = store.load(&template, None).await.unwrap().remove(0);
    let old_order = uuid::Uuid::new_v4().to_string();
    placed.order_id.clone_from(&old_order);
    placed.correlation_id.clone_from(&old_order);
    placed.occurred_at = OffsetDateTime::now_utc() - time::Duration::hours(25);
    let claim = IdempotencyClaim {
        key: "c-1#k-1".into(),
        request_hash: "hash-a".into(),
    };
    store.append(&[placed], Some(&claim)).await.unwrap();

    assert_eq!(
        store
            .claimed("c-1#k-1", OffsetDateTime::now_utc())
            .await
            .unwrap(),
        None
    );
    // Another body with the old key is a new order, not a 422, and the key now answers for it.
    let fresh = setup
        .orders
        .place(&setup.card_tokens, "c-1", with_key("k-1", "hash-b"), "test")
        .await
        .unwrap();
    assert!(!fresh.replayed);
    assert_ne!(fresh.order_id, old_order);
    let retried = setup
        .orders
        .place(&setup.card_tokens, "c-1", with_key("k-1", "hash-b"), "test")
        .await
        .unwrap();
    assert_eq!((retried.order_id, retried.replayed), (fresh.order_id, true));
}
