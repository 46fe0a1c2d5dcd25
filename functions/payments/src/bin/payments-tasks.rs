//! Payments' tasks of the place-order saga, for Step Functions.

use payments::entrypoints::tasks;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(payments::SERVICE);
    let aws = shop_aws::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let payments = payments::config::payments(&dynamodb)?;
    let card_tokens = payments::config::card_token_opener(aws_sdk_kms::Client::new(&aws))?;
    payments.table.connect().await?;
    card_tokens.connect().await?;
    shop_events::run_task(|task, _| tasks::run(&payments, &card_tokens, task)).await
}
