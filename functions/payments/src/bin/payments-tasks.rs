//! Payments' tasks of the place-order saga, for Step Functions.

use payments::entrypoints::tasks;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(payments::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let payments = payments::config::payments(&dynamodb)?;
    payments.table.connect().await?;
    shop_events::run_task(|task, _| tasks::run(&payments, task)).await
}
