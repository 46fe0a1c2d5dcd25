//! Inventory's tasks of the place-order saga, for Step Functions.

use inventory::entrypoints::tasks::{self, Task};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(inventory::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let stock = inventory::config::stock(&dynamodb)?;
    stock.connect().await?;
    let stock = &stock;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Task>| async move {
        tasks::run(stock, event.payload)
            .await
            .map_err(|error| Diagnostic {
                error_type: error.error_type.to_owned(),
                error_message: error.message,
            })
    }))
    .await
}
