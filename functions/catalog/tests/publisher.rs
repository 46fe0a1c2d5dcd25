//! The products table's real stream on moto, through the shared publisher, onto a real
//! EventBridge bus on moto, and out to a subscribed SQS queue; records that cannot be published
//! parked in a real SQS queue.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::Router;
use catalog::{
    adapters::ProductTable,
    entrypoints::{http, stream::ProductEvents},
    service::Catalog,
};
use serde_json::{Value, json};
use shop_events::{ParkingQueue, Publisher, StreamBatch};
use shop_testkit::{
    Moto,
    api::{ApiRequest, As, send},
    bus::Subscription,
    schemas, streams, template, unique_name,
};

struct Setup {
    app: Router,
    stream_arn: String,
    streams: aws_sdk_dynamodbstreams::Client,
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    bus: String,
    parking_queue: String,
}

async fn setup() -> Setup {
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let products = unique_name("products");
    let skus = unique_name("skus");
    let stream_arn = template::create_table(&dynamodb, "ProductsTable", &products)
        .await
        .expect("the products table has a stream");
    template::create_table(&dynamodb, "SkusTable", &skus).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let bus = unique_name("shop");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("create bus");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let parking_queue = sqs
        .create_queue()
        .queue_name(unique_name("catalog-publisher-dlq"))
        .send()
        .await
        .expect("create the parking queue")
        .queue_url
        .expect("a queue url");
    Setup {
        app: http::router(Catalog::new(ProductTable::new(dynamodb, products, skus))),
        stream_arn,
        streams: aws_sdk_dynamodbstreams::Client::new(&config),
        events,
        sqs,
        bus,
        parking_queue,
    }
}

impl Setup {
    /// A queue that receives every catalog event on the test's bus.
    async fn subscribe(&self) -> Subscription {
        Subscription::create(
            &self.events,
            &self.sqs,
            &self.bus,
            &json!({"source": ["shop.catalog"]}),
        )
        .await
    }

    fn publisher(&self, bus: &str) -> Publisher<ProductEvents> {
        self.publisher_parking_in(bus, &self.parking_queue)
    }

    fn publisher_parking_in(&self, bus: &str, queue_url: &str) -> Publisher<ProductEvents> {
        let parking = ParkingQueue::new(
            self.sqs.clone(),
            queue_url,
            "shop-test-CatalogPublisherFunction",
            catalog::SERVICE,
        );
        Publisher::new(self.events.clone(), bus, ProductEvents, parking)
    }

    /// Every message waiting in the parking queue, as JSON.
    async fn parked(&self) -> Vec<Value> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.parking_queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        received
            .messages()
            .iter()
            .map(|message| serde_json::from_str(message.body().unwrap()).unwrap())
            .collect()
    }

    async fn admin(&self, request: ApiRequest, correlation_id: &str) -> Value {
        let response = send(
            &self.app,
            &request
                .caller(As::admin())
                .header("x-correlation-id", correlation_id),
        )
        .await;
        assert!(
            response.status < 300,
            "{} {:#}",
            response.status,
            response.body
        );
        response.body
    }

    /// Creates, updates and discontinues one product; returns its id.
    async fn product_lifecycle(&self) -> String {
        let created = self
            .admin(
                ApiRequest::post("/products").json(&json!({
                    "sku": "PUB-1", "name": "Lamp", "price_cents": 4500, "currency": "EUR"
                })),
                "corr-create",
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let path = format!("/products/{id}");
        self.admin(
            ApiRequest::put(&path)
                .json(&json!({"name": "Lamp", "price_cents": 3900, "currency": "EUR"})),
            "corr-update",
        )
        .await;
        self.admin(ApiRequest::delete(&path), "corr-discontinue")
            .await;
        id
    }
}

#[tokio::test]
async fn every_product_change_reaches_a_bus_subscriber_in_order_with_its_correlation_id() {
    let setup = setup().await;
    let subscriber = setup.subscribe().await;
    let id = setup.product_lifecycle().await;

    let batch = streams::read_all(&setup.streams, &setup.stream_arn).await;
    assert_eq!(batch.records.len(), 3);
    let response = setup.publisher(&setup.bus).handle(batch).await;
    assert!(response.batch_item_failures.is_empty());

    let mut received = subscriber.receive(3, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 3, "{received:#?}");
    received.sort_by_key(|event| event["detail"]["sequence"].as_u64());
    let summary: Vec<(&str, u64, &str)> = received
        .iter()
        .map(|event| {
            let detail = &event["detail"];
            assert_eq!(event["source"], "shop.catalog");
            assert_eq!(event["detail-type"], detail["type"]);
            assert_eq!(detail["data"]["product_id"], id.as_str());
            (
                detail["type"].as_str().unwrap(),
                detail["sequence"].as_u64().unwrap(),
                detail["correlation_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("ProductCreated", 1, "corr-create"),
            ("ProductUpdated", 2, "corr-update"),
            ("ProductDiscontinued", 3, "corr-discontinue"),
        ]
    );
    assert_eq!(received[1]["detail"]["data"]["price_cents"], 3900);
    for event in &received {
        schemas::assert_valid(&event["detail"]);
    }
}

#[tokio::test]
async fn a_redelivered_batch_republishes_the_same_event_ids() {
    let setup = setup().await;
    let subscriber = setup.subscribe().await;
    setup.product_lifecycle().await;

    let publisher = setup.publisher(&setup.bus);
    for _ in 0..2 {
        let batch = streams::read_all(&setup.streams, &setup.stream_arn).await;
        assert!(publisher.handle(batch).await.batch_item_failures.is_empty());
    }
    let received = subscriber.receive(6, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 6);
    let mut ids: Vec<&str> = received
        .iter()
        .map(|event| event["detail"]["event_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        3,
        "each change keeps one event id across deliveries"
    );
}

#[tokio::test]
async fn a_batch_that_cannot_be_published_is_reported_from_its_first_record_and_nothing_parked() {
    let setup = setup().await;
    setup.product_lifecycle().await;
    let batch = streams::read_all(&setup.streams, &setup.stream_arn).await;
    let first = batch.records[0].change.sequence_number.clone();

    // A bus that does not exist: the bus's fault, not the records', so Lambda retries them.
    let response = setup.publisher("no-such-bus").handle(batch).await;

    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, first);
    assert!(setup.parked().await.is_empty());
}

#[tokio::test]
async fn an_unreadable_record_is_parked_with_its_image_and_the_rest_is_published() {
    let setup = setup().await;
    let subscriber = setup.subscribe().await;
    let id = setup.product_lifecycle().await;
    let batch = streams::read_all(&setup.streams, &setup.stream_arn).await;
    let mut records = serde_json::to_value(&batch).unwrap();
    let poison = &mut records["Records"][1];
    poison["dynamodb"]["NewImage"]
        .as_object_mut()
        .unwrap()
        .remove("version");
    let poison = poison.clone();

    let response = setup
        .publisher(&setup.bus)
        .handle(serde_json::from_value::<StreamBatch>(records).unwrap())
        .await;

    assert!(
        response.batch_item_failures.is_empty(),
        "a parked record counts as processed, so the shard moves on"
    );
    let received = subscriber.receive(2, Duration::from_secs(10)).await;
    let mut types: Vec<&str> = received
        .iter()
        .map(|e| e["detail"]["type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["ProductCreated", "ProductDiscontinued"]);
    let parked = setup.parked().await;
    assert_eq!(parked.len(), 1, "{parked:#?}");
    assert_eq!(
        parked[0]["record"], poison,
        "the record as Lambda delivered it"
    );
    assert_eq!(
        parked[0]["record"]["dynamodb"]["NewImage"]["id"]["S"],
        id.as_str()
    );
    assert_eq!(
        parked[0]["parked"]["function"],
        "shop-test-CatalogPublisherFunction"
    );
    assert!(
        parked[0]["parked"]["reason"]
            .as_str()
            .unwrap()
            .contains("version"),
        "{}",
        parked[0]["parked"]
    );
}

#[tokio::test]
async fn a_record_that_cannot_be_parked_is_reported_so_lambda_keeps_it() {
    let setup = setup().await;
    let subscriber = setup.subscribe().await;
    setup.product_lifecycle().await;
    let mut batch = streams::read_all(&setup.streams, &setup.stream_arn).await;
    batch.records[1]
        .change
        .new_image
        .inner_mut()
        .remove("version");
    let broken = batch.records[1].change.sequence_number.clone();
    let missing_queue = format!("{}-gone", setup.parking_queue);

    let response = setup
        .publisher_parking_in(&setup.bus, &missing_queue)
        .handle(batch)
        .await;

    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, broken);
    let received = subscriber.receive(3, Duration::from_secs(3)).await;
    let types: Vec<&str> = received
        .iter()
        .map(|e| e["detail"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["ProductCreated"], "nothing after the kept record");
}
