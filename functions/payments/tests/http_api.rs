//! The payments API through its router over DynamoDB on moto.

#![allow(clippy::unwrap_used)]

use payments::{adapters::PaymentsTable, entrypoints::http};
use shop_testkit::{
    Moto,
    api::{ApiRequest, As, send},
    stack,
};

#[tokio::test]
async fn only_admins_read_payments() {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let payments = payments::service::Payments {
        table: PaymentsTable::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "PaymentsTable"),
        ),
        provider: payments::adapters::SimulatedProvider {
            timeout: std::time::Duration::from_millis(1),
        },
    };
    let app = http::router(payments.table.clone());
    assert_eq!(
        send(&app, &ApiRequest::get("/payments/o-1").caller(As::admin()))
            .await
            .status,
        404
    );
    payments
        .authorize("o-1", "tok_visa", 700, "EUR")
        .await
        .unwrap();
    let read = send(&app, &ApiRequest::get("/payments/o-1").caller(As::admin())).await;
    assert_eq!(
        (read.status, read.body["status"].as_str()),
        (200, Some("AUTHORIZED"))
    );
    assert_eq!(
        send(
            &app,
            &ApiRequest::get("/payments/o-1").caller(As::customer("c-1"))
        )
        .await
        .status,
        403
    );
    assert_eq!(
        send(&app, &ApiRequest::get("/payments/o-1")).await.status,
        401
    );
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("payments", &http::openapi());
}
