//! Keeps orders' copy of the products current from the catalog's events on the bus.

use lambda_runtime::{LambdaEvent, service_fn};
use orders::{config, entrypoints::catalog_sync::CatalogSync};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let sync = CatalogSync {
        products: config::product_copies(&dynamodb)?,
    };
    sync.products.connect().await?;
    let sync = &sync;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        sync.handle(&event.payload).await?;
        Ok::<_, lambda_runtime::Error>(())
    }))
    .await
}
