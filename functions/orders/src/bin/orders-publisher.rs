//! Publishes the event store's stream to the event bus as orders integration events.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_events::run_publisher(orders::SERVICE, orders::entrypoints::stream::OrderEvents).await
}
