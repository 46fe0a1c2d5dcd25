//! Orders' subscription to other services' answers on the bus (shipments, cancellations).

use orders::{config, entrypoints::bus::choreography};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let orders = config::orders(&dynamodb)?;
    orders.store.connect().await?;
    shop_events::run_inbox(orders::SERVICE, |delivery| {
        choreography::handle(&orders, delivery)
    })
    .await
}
