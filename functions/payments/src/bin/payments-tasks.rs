//! Payments' tasks of the place-order saga, for Step Functions.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use payments::entrypoints::tasks::{self, Task};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(payments::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let payments = payments::config::payments(&dynamodb)?;
    payments.table.connect().await?;
    let payments = &payments;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Task>| async move {
        tasks::run(payments, event.payload)
            .await
            .map_err(|error| Diagnostic {
                error_type: error.error_type.to_owned(),
                error_message: error.message,
            })
    }))
    .await
}
