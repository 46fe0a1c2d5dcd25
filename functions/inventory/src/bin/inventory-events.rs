//! Inventory's subscription to OrderCancelled on the bus.

use inventory::entrypoints::bus;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(inventory::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let inventory = inventory::config::inventory(&dynamodb)?;
    inventory.stock.connect().await?;
    shop_events::run_inbox(inventory::SERVICE, |delivery| {
        bus::handle(&inventory, delivery)
    })
    .await
}
