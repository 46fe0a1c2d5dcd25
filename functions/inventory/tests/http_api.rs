//! The inventory API through its router over DynamoDB on moto.

#![allow(clippy::unwrap_used)]

use inventory::{adapters::Stock, domain::Line, entrypoints::http, service::Inventory};
use serde_json::json;
use shop_testkit::{
    Moto,
    api::{ApiRequest, As, send},
    stack,
};

async fn setup() -> (axum::Router, Inventory) {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let inventory = Inventory {
        stock: Stock::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "StockTable"),
            stack::name(&resolver, "ReservationsTable"),
        ),
    };
    (http::router(inventory.clone()), inventory)
}

#[tokio::test]
async fn health_is_ok_without_a_token_when_the_tables_answer() {
    let (app, _) = setup().await;
    let response = send(&app, &ApiRequest::get("/inventory/health")).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(
        response.body["checks"],
        json!({"stock_tables": "ok"}),
        "{:#}",
        response.body
    );
}

#[tokio::test]
async fn health_is_a_503_naming_the_check_when_a_table_is_missing() {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let app = http::router(Inventory {
        stock: Stock::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "StockTable"),
            "never-created-reservations".to_owned(),
        ),
    });
    let response = send(&app, &ApiRequest::get("/inventory/health")).await;
    assert_eq!(response.status, 503, "{:#}", response.body);
    assert_eq!(response.body["status"], "unavailable");
    assert_eq!(response.body["checks"], json!({"stock_tables": "failed"}));
}

#[tokio::test]
async fn anyone_reads_stock_and_an_unstocked_sku_has_none() {
    let (app, _) = setup().await;
    let response = send(&app, &ApiRequest::get("/inventory/NEVER-1")).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        json!({"sku": "NEVER-1", "on_hand": 0, "reserved": 0, "available": 0})
    );
}

#[tokio::test]
async fn an_admin_sets_stock_and_reads_the_reserved_part() {
    let (app, stock) = setup().await;
    let put = |on_hand: i64| {
        ApiRequest::put("/inventory/KETTLE-1")
            .caller(As::admin())
            .json(&json!({"on_hand": on_hand}))
    };
    assert_eq!(send(&app, &put(5)).await.status, 200);
    stock
        .reserve(
            "o-1",
            &[Line {
                sku: "KETTLE-1".into(),
                quantity: 2,
            }],
        )
        .await
        .unwrap();
    let read = send(&app, &ApiRequest::get("/inventory/KETTLE-1")).await;
    assert_eq!(
        read.body,
        json!({"sku": "KETTLE-1", "on_hand": 5, "reserved": 2, "available": 3})
    );
    let below = send(&app, &put(1)).await;
    assert_eq!(below.status, 409);
}

#[tokio::test]
async fn only_admins_set_stock() {
    let (app, _) = setup().await;
    let body = json!({"on_hand": 5});
    let customer = ApiRequest::put("/inventory/KETTLE-1")
        .caller(As::customer("c-1"))
        .json(&body);
    assert_eq!(send(&app, &customer).await.status, 403);
    assert_eq!(
        send(&app, &ApiRequest::put("/inventory/KETTLE-1").json(&body))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn bad_skus_and_quantities_are_400s_naming_the_field() {
    let (app, _) = setup().await;
    let response = send(&app, &ApiRequest::get("/inventory/not%20a%20sku")).await;
    assert_eq!(
        (
            response.status,
            response.body["errors"][0]["field"].as_str()
        ),
        (400, Some("sku"))
    );
    let negative = ApiRequest::put("/inventory/KETTLE-1")
        .caller(As::admin())
        .json(&json!({"on_hand": -1}));
    let response = send(&app, &negative).await;
    assert_eq!(
        (
            response.status,
            response.body["errors"][0]["field"].as_str()
        ),
        (400, Some("on_hand"))
    );
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("inventory", &http::openapi());
}
