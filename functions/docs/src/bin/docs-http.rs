//! The API's documentation (Swagger UI and the gateway's OpenAPI document) as a Lambda function
//! behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(docs::SERVICE);
    lambda_http::run(docs::http::router()).await
}
