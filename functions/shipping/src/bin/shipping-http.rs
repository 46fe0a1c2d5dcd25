//! The shipping HTTP API as a Lambda function behind API Gateway.

use shipping::{config, entrypoints::http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(shipping::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let shipping = config::shipping(&dynamodb)?;
    shipping.shipments.connect().await?;
    lambda_http::run(http::router(shipping)).await
}
