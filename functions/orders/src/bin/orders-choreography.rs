//! Orders' subscription to other services' events on the bus (ShipmentScheduled).

use lambda_runtime::{LambdaEvent, service_fn};
use orders::{config, entrypoints::choreography};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let orders = config::orders(&dynamodb)?;
    orders.store.connect().await?;
    let orders = &orders;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        choreography::handle(orders, &event.payload).await?;
        Ok::<_, lambda_runtime::Error>(())
    }))
    .await
}
