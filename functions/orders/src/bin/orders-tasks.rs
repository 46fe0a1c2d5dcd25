//! The orders tasks of the place-order saga, for Step Functions.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use orders::{
    config,
    entrypoints::tasks::{self, Task},
};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let orders = config::orders(&dynamodb)?;
    orders.store.connect().await?;
    let test_hooks = std::env::var("TEST_HOOKS").is_ok_and(|value| value == "true");
    let orders = &orders;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Task>| async move {
        if test_hooks && tasks::crash_requested(orders, &event.payload).await {
            tracing::warn!("test hook: crashing while confirming");
            std::process::exit(70);
        }
        let causation_id = event.context.request_id.clone();
        tasks::run(orders, event.payload, &causation_id)
            .await
            .map_err(|error| Diagnostic {
                error_type: error.error_type.to_owned(),
                error_message: error.message,
            })
            .map(|value: Value| value)
    }))
    .await
}
