//! Publishes the products table's stream to the event bus as catalog integration events.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_events::run_publisher(
        catalog::SERVICE,
        catalog::entrypoints::stream::ProductEvents,
    )
    .await
}
