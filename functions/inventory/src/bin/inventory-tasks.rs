//! Inventory's tasks of the place-order saga, for Step Functions.

use inventory::entrypoints::tasks;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(inventory::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let inventory = inventory::config::inventory(&dynamodb)?;
    inventory.stock.connect().await?;
    shop_events::run_task(|task, _| tasks::run(&inventory, task)).await
}
