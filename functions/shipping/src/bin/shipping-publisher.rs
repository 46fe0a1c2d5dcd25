//! Publishes the shipments table's stream to the event bus.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_events::run_publisher(
        shipping::SERVICE,
        shipping::entrypoints::stream::ShipmentEvents,
    )
    .await
}
