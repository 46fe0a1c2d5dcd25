//! The inventory HTTP API as a Lambda function behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(inventory::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let inventory = inventory::config::inventory(&dynamodb)?;
    inventory.stock.connect().await?;
    lambda_http::run(inventory::entrypoints::http::router(inventory)).await
}
