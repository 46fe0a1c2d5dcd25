//! The card token never travels in clear: orders seals it with the template's KMS key (on
//! moto, which encrypts for real) under the order's id, and the event store, its stream and
//! the integration event carry only the ciphertext, which opens for that order alone.

#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_kms::primitives::Blob;
use base64::{Engine, engine::general_purpose::STANDARD};
use orders::{
    adapters::CardTokenSealer,
    entrypoints::{http, stream},
};
use serde_json::{Value, json};
use shop_events::StreamMapper;
use shop_testkit::{
    api::{ApiRequest, As, send},
    schemas, streams,
};

/// A card token no other test uses, so finding it anywhere means it leaked from here.
fn marker_token() -> String {
    format!("tok_visa+{}", uuid::Uuid::new_v4().simple())
}

fn order_paid_with(card_token: &str) -> Value {
    json!({
        "items": [{"product_id": common::KETTLE, "quantity": 1}],
        "payment": {"card_token": card_token},
        "shipping_address": {"name": "Ada", "line1": "1 Main St", "postal_code": "10115", "city": "Berlin", "country": "DE"}
    })
}

/// Every item of a table, as text.
async fn table_text(setup: &common::Setup, logical_id: &str) -> String {
    let items = aws_sdk_dynamodb::Client::new(&setup.config)
        .scan()
        .table_name(common::name(setup, logical_id))
        .send()
        .await
        .unwrap();
    format!("{:?}", items.items())
}

/// What KMS answers when asked to open `ciphertext` under `context`, as payments would.
async fn open(
    setup: &common::Setup,
    ciphertext: &str,
    context: &[(&str, &str)],
) -> Result<String, String> {
    let mut request = aws_sdk_kms::Client::new(&setup.config)
        .decrypt()
        .key_id(&setup.card_token_key_arn)
        .ciphertext_blob(Blob::new(STANDARD.decode(ciphertext).unwrap()));
    for (key, value) in context {
        request = request.encryption_context(*key, *value);
    }
    match request.send().await {
        Ok(output) => Ok(String::from_utf8(output.plaintext.unwrap().into_inner()).unwrap()),
        Err(error) => Err(error
            .into_service_error()
            .meta()
            .code()
            .unwrap_or_default()
            .to_owned()),
    }
}

#[tokio::test]
async fn a_placed_orders_card_token_is_stored_only_sealed_and_opens_for_that_order_alone() {
    let setup = common::setup().await;
    let token = marker_token();
    let placed = send(
        &setup.router(),
        &ApiRequest::post("/orders")
            .caller(As::customer("c-1"))
            .json(&order_paid_with(&token)),
    )
    .await;
    assert_eq!(placed.status, 202, "{:#}", placed.body);
    let order_id = placed.body["order_id"].as_str().unwrap().to_owned();

    for table in ["OrderEventsTable", "OrderIdempotencyTable"] {
        let text = table_text(&setup, table).await;
        assert!(!text.contains(&token), "{table} holds the token: {text}");
    }
    let stored = setup.orders.store.load(&order_id, None).await.unwrap();
    let data = stored[0].data_json().unwrap();
    assert!(data.get("card_token").is_none(), "{data}");
    let ciphertext = data["card_token_ciphertext"].as_str().unwrap();

    // The stream, and the integration event the publisher makes of it.
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
    let records = serde_json::to_string(&batch).unwrap();
    assert!(records.contains(ciphertext), "the stream carries the order");
    assert!(!records.contains(&token), "{records}");
    let published = stream::OrderEvents.map(&batch.records[0]).unwrap().unwrap();
    let detail = serde_json::to_value(&published).unwrap();
    schemas::assert_valid(&detail);
    assert_eq!(
        (
            detail["version"].as_u64(),
            detail["data"]["card_token_ciphertext"].as_str()
        ),
        (Some(2), Some(ciphertext))
    );
    assert!(!detail.to_string().contains(&token), "{detail}");

    assert_eq!(
        open(&setup, ciphertext, &[("order_id", &order_id)]).await,
        Ok(token),
        "payments opens it under the order's id"
    );
    let another_order = uuid::Uuid::new_v4().to_string();
    for context in [
        vec![("order_id", another_order.as_str())],
        vec![],
        vec![("order_id", order_id.as_str()), ("purpose", "any")],
    ] {
        assert_eq!(
            open(&setup, ciphertext, &context).await,
            Err("InvalidCiphertextException".to_owned()),
            "opened under {context:?}"
        );
    }
}

#[tokio::test]
async fn the_same_token_is_sealed_differently_for_each_order() {
    let setup = common::setup().await;
    let token = marker_token();
    let first = setup.card_tokens.seal("o-1", &token).await.unwrap();
    let second = setup.card_tokens.seal("o-2", &token).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        open(&setup, &first, &[("order_id", "o-1")]).await,
        Ok(token)
    );
    assert!(open(&setup, &second, &[("order_id", "o-1")]).await.is_err());
}

#[tokio::test]
async fn an_order_whose_token_cannot_be_sealed_is_a_500_and_stores_nothing() {
    let setup = common::setup().await;
    let missing_key = setup
        .card_token_key_arn
        .rsplit_once('/')
        .map(|(prefix, _)| format!("{prefix}/{}", uuid::Uuid::new_v4()))
        .unwrap();
    let app = http::router(
        setup.orders.clone(),
        CardTokenSealer::new(aws_sdk_kms::Client::new(&setup.config), missing_key),
    );
    let token = marker_token();
    let placed = send(
        &app,
        &ApiRequest::post("/orders")
            .caller(As::customer("c-1"))
            .json(&order_paid_with(&token)),
    )
    .await;
    assert_eq!(placed.status, 500, "{:#}", placed.body);
    assert!(!placed.body.to_string().contains(&token));
    assert_eq!(table_text(&setup, "OrderEventsTable").await, "[]");
}
