//! Publishes the payments table's stream to the event bus (PaymentRefunded).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_events::run_publisher(
        payments::SERVICE,
        payments::entrypoints::stream::PaymentEvents,
    )
    .await
}
