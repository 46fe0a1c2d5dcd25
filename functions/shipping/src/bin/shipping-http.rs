//! The shipping HTTP API as a Lambda function behind API Gateway.

use shipping::{adapters::Shipments, entrypoints::http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(shipping::SERVICE);
    let table = shop_aws::required_env("SHIPMENTS_TABLE")?;
    let shipments = Shipments::new(
        aws_sdk_dynamodb::Client::new(&shop_aws::load().await),
        table,
    );
    shipments.connect().await?;
    lambda_http::run(http::router(shipments)).await
}
