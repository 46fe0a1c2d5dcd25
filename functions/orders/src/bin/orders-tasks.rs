//! The orders tasks of the place-order saga, for Step Functions.

use orders::{config, entrypoints::tasks};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let hooks = config::TestHooks::from_env()?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let orders = config::orders(&dynamodb)?;
    orders.store.connect().await?;
    let orders = &orders;
    shop_events::run_task(move |task, context: lambda_runtime::Context| async move {
        tasks::run(orders, hooks, task, &context.request_id).await
    })
    .await
}
