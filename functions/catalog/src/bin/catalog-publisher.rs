//! Publishes the products table's stream to the event bus as catalog integration events.

use aws_lambda_events::dynamodb::Event;
use catalog::{config::PublisherConfig, entrypoints::stream::ProductEvents};
use lambda_runtime::{LambdaEvent, service_fn};
use shop_events::Publisher;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(catalog::SERVICE);
    let config = PublisherConfig::from_env()?;
    let aws = shop_aws::load().await;
    let publisher = Publisher::new(
        aws_sdk_eventbridge::Client::new(&aws),
        config.event_bus_name,
        ProductEvents,
    );
    publisher.connect().await?;
    let publisher = &publisher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(publisher.handle(event.payload).await)
    }))
    .await
}
