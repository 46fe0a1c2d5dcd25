//! The orders HTTP API as a Lambda function behind API Gateway.

use orders::{config, entrypoints::http, service::Orders};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(orders::SERVICE);
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let orders = Orders {
        store: config::event_store(&dynamodb)?,
        views: config::read_model(&dynamodb)?,
        products: config::product_copies(&dynamodb)?,
    };
    orders.store.connect().await?;
    orders.views.connect().await?;
    orders.products.connect().await?;
    lambda_http::run(http::router(orders)).await
}
