//! Starts one place-order saga per order, from OrderPlaced on the bus.

use orders::entrypoints::bus::saga::SagaStarter;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let state_machine_arn = shop_aws::required_env("STATE_MACHINE_ARN")?;
    let config = shop_aws::load().await;
    let claims = orders::config::saga_claims(&aws_sdk_dynamodb::Client::new(&config))?;
    claims.connect().await?;
    let client = aws_sdk_sfn::Client::new(&config);
    client
        .describe_state_machine()
        .state_machine_arn(&state_machine_arn)
        .send()
        .await?;
    let starter = SagaStarter {
        client,
        state_machine_arn,
        claims,
    };
    shop_events::run_inbox(orders::SERVICE, |delivery| async {
        starter.handle(delivery).await.map(|_| ())
    })
    .await
}
