//! Shipping's subscription to OrderConfirmed and OrderCancelled on the bus.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shipping::{adapters::Shipments, entrypoints::events};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(shipping::SERVICE);
    let table = shop_aws::required_env("SHIPMENTS_TABLE")?;
    let shipments = Shipments::new(
        aws_sdk_dynamodb::Client::new(&shop_aws::load().await),
        table,
    );
    shipments.connect().await?;
    // Test hook (0, off, unless a test stage sets it): hold each OrderConfirmed this long, so a
    // system test can cancel a confirmed order before it ships.
    let hold = std::time::Duration::from_millis(
        std::env::var("TEST_SHIPPING_HOLD_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0),
    );
    let shipments = &shipments;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if event.payload["detail"]["type"] == "OrderConfirmed" {
            tokio::time::sleep(hold).await;
        }
        events::handle(shipments, &event.payload).await?;
        Ok::<_, lambda_runtime::Error>(())
    }))
    .await
}
