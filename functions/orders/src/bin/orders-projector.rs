//! Projects the event store's stream into the read model.

use lambda_runtime::{LambdaEvent, service_fn};
use orders::config;
use shop_events::StreamBatch;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let aws = shop_aws::load().await;
    let projector = config::projector(
        &aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
    )?;
    projector.views.connect().await?;
    let projector = &projector;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<StreamBatch>| async move {
            Ok::<_, lambda_runtime::Error>(projector.handle(event.payload).await)
        },
    ))
    .await
}
