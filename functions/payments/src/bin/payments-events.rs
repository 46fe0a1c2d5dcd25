//! Payments' subscription to OrderCancelled on the bus.

use payments::entrypoints::bus;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(payments::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let payments = payments::config::payments(&dynamodb)?;
    payments.table.connect().await?;
    shop_events::run_inbox(payments::SERVICE, |delivery| {
        bus::handle(&payments, delivery)
    })
    .await
}
