//! Payments' subscription to OrderCancelled on the bus.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(payments::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let payments = payments::config::payments(&dynamodb)?;
    payments.table.connect().await?;
    let payments = &payments;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        payments::entrypoints::events::handle(payments, &event.payload).await?;
        Ok::<_, lambda_runtime::Error>(())
    }))
    .await
}
