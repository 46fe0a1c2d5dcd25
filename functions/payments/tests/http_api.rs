//! The payments API through its router over DynamoDB on moto.

#![allow(clippy::unwrap_used)]

use payments::{
    adapters::{PaymentsTable, SimulatedProvider},
    entrypoints::http,
};
use serde_json::json;
use shop_testkit::{
    Moto,
    api::{ApiRequest, As, send},
    stack,
};

fn payments_over(client: aws_sdk_dynamodb::Client, table: String) -> axum::Router {
    http::router(payments::service::Payments {
        table: PaymentsTable::new(client.clone(), table.clone()),
        provider: SimulatedProvider::new(client, table, std::time::Duration::from_millis(1)),
    })
}

#[tokio::test]
async fn health_is_ok_without_a_token_when_the_table_answers() {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let app = payments_over(
        aws_sdk_dynamodb::Client::new(&config),
        stack::name(&resolver, "PaymentsTable"),
    );
    let response = send(&app, &ApiRequest::get("/payments/health")).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(response.body["checks"], json!({"payments_table": "ok"}));
}

#[tokio::test]
async fn health_is_a_503_naming_the_check_when_the_table_is_missing() {
    let config = Moto::shared().sdk_config().await;
    let app = payments_over(
        aws_sdk_dynamodb::Client::new(&config),
        "never-created-payments".to_owned(),
    );
    let response = send(&app, &ApiRequest::get("/payments/health")).await;
    assert_eq!(response.status, 503, "{:#}", response.body);
    assert_eq!(response.body["status"], "unavailable");
    assert_eq!(response.body["checks"], json!({"payments_table": "failed"}));
}

#[tokio::test]
async fn only_admins_read_payments_with_the_providers_books_beside_them() {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = stack::name(&resolver, "PaymentsTable");
    let payments = payments::service::Payments {
        table: PaymentsTable::new(client.clone(), table.clone()),
        provider: SimulatedProvider::new(client, table, std::time::Duration::from_millis(1)),
    };
    let app = http::router(payments.clone());
    let order = uuid::Uuid::new_v4().to_string();
    let path = format!("/payments/{order}");
    assert_eq!(
        send(&app, &ApiRequest::get(&path).caller(As::admin()))
            .await
            .status,
        404
    );
    payments
        .authorize(&order, "tok_visa", 700, "EUR")
        .await
        .unwrap();
    let read = send(&app, &ApiRequest::get(&path).caller(As::admin())).await;
    assert_eq!(
        (read.status, read.body["status"].as_str()),
        (200, Some("AUTHORIZED"))
    );
    let provider = &read.body["provider"];
    assert_eq!(
        (
            provider["authorized_cents"].as_i64(),
            provider["voided_cents"].as_i64(),
            provider["refunded_cents"].as_i64()
        ),
        (Some(700), Some(0), Some(0))
    );
    assert_eq!(provider["authorization_id"], read.body["authorization_id"]);
    payments.refund(&order).await.unwrap();
    let refunded = send(&app, &ApiRequest::get(&path).caller(As::admin())).await;
    assert_eq!(refunded.body["provider"]["refunded_cents"], 700);
    assert_eq!(
        send(&app, &ApiRequest::get(&path).caller(As::customer("c-1")))
            .await
            .status,
        403
    );
    assert_eq!(send(&app, &ApiRequest::get(&path)).await.status, 401);
}

/// DynamoDB refuses a key over 2048 bytes with an error (a 500); an order id is a UUID, so
/// anything else is no payment, answered without a lookup.
#[tokio::test]
async fn an_order_id_that_is_not_a_uuid_is_a_404_without_a_lookup() {
    let config = Moto::shared().sdk_config().await;
    let unreachable = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let app = payments_over(
        aws_sdk_dynamodb::Client::from_conf(unreachable),
        "unreachable".to_owned(),
    );
    for id in ["o-1".to_owned(), "a".repeat(3000)] {
        let request = ApiRequest::get(&format!("/payments/{id}")).caller(As::admin());
        assert_eq!(send(&app, &request).await.status, 404);
    }
    let request =
        ApiRequest::get(&format!("/payments/{}", uuid::Uuid::new_v4())).caller(As::admin());
    assert_eq!(
        send(&app, &request).await.status,
        500,
        "a UUID is looked up (and this DynamoDB cannot be reached)"
    );
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("payments", &http::openapi());
}
