//! Shipping's subscription to OrderConfirmed and OrderCancelled on the bus.

use shipping::{config, entrypoints::bus};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(shipping::SERVICE);
    let hooks = config::TestHooks::from_env()?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let shipping = config::shipping(&dynamodb)?;
    shipping.shipments.connect().await?;
    shop_events::run_inbox(shipping::SERVICE, |delivery| {
        bus::handle(&shipping, hooks, delivery)
    })
    .await
}
