//! Publishes the customers table's stream to the event bus as CustomerRegistered events.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_events::run_publisher(auth::SERVICE, auth::entrypoints::stream::CustomerEvents).await
}
