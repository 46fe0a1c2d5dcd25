//! Inventory's subscription to OrderCancelled on the bus.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(inventory::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let stock = inventory::config::stock(&dynamodb)?;
    stock.connect().await?;
    let stock = &stock;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        inventory::entrypoints::events::handle(stock, &event.payload).await?;
        Ok::<_, lambda_runtime::Error>(())
    }))
    .await
}
