//! Keeps orders' copy of the products current from the catalog's events on the bus.

use orders::{config, entrypoints::bus::catalog_sync::CatalogSync};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let sync = CatalogSync {
        products: config::product_copies(&dynamodb)?,
    };
    sync.products.connect().await?;
    shop_events::run_inbox(orders::SERVICE, |delivery| sync.handle(delivery)).await
}
