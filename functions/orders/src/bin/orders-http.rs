//! The orders HTTP API as a Lambda function behind API Gateway.

use orders::{config, entrypoints::http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let aws = shop_aws::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let orders = config::orders(&dynamodb)?;
    let card_tokens = config::card_token_sealer(aws_sdk_kms::Client::new(&aws))?;
    orders.store.connect().await?;
    orders.views.connect().await?;
    orders.products.connect().await?;
    card_tokens.connect().await?;
    lambda_http::run(http::router(orders, card_tokens)).await
}
