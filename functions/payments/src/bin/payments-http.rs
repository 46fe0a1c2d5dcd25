//! The payments HTTP API as a Lambda function behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(payments::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let payments = payments::config::payments(&dynamodb)?;
    payments.table.connect().await?;
    lambda_http::run(payments::entrypoints::http::router(payments)).await
}
