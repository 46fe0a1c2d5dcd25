//! Projects the event store's stream into the read model.

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};
use orders::{config, entrypoints::projector::Projector};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let projector = Projector {
        store: config::event_store(&dynamodb)?,
        views: config::read_model(&dynamodb)?,
    };
    projector.views.connect().await?;
    let projector = &projector;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(projector.handle(event.payload).await)
    }))
    .await
}
