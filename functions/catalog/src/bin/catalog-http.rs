//! The catalog's HTTP API as a Lambda function behind API Gateway.

use catalog::{adapters::ProductTable, config::HttpConfig, entrypoints::http, service::Catalog};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(catalog::SERVICE);
    let config = HttpConfig::from_env()?;
    let aws = shop_aws::load().await;
    let table = ProductTable::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.products_table,
        config.skus_table,
    );
    table.connect().await?;
    lambda_http::run(http::router(Catalog::new(table))).await
}
