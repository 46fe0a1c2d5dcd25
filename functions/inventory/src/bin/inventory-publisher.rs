//! Publishes the reservations table's stream to the event bus (StockReleased).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_events::run_publisher(
        inventory::SERVICE,
        inventory::entrypoints::stream::ReservationEvents,
    )
    .await
}
