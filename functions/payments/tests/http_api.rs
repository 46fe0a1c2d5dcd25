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
fn the_openapi_document_is_up_to_date() {
    let generated = http::openapi().to_pretty_json().unwrap() + "\n";
    let path = shop_testkit::workspace_root().join("docs/api/payments.openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == generated,
        "{} is stale: run `make openapi`",
        path.display()
    );
}
