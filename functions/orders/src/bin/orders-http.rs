//! The orders HTTP API as a Lambda function behind API Gateway.

use orders::{config, entrypoints::http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let orders = config::orders(&dynamodb)?;
    orders.store.connect().await?;
    orders.views.connect().await?;
    orders.products.connect().await?;
    lambda_http::run(http::router(orders)).await
}
