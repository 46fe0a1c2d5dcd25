//! The auth HTTP API as a Lambda function behind API Gateway.

use auth::{
    adapters::{Customers, IdentityProvider, LoginAttempts},
    config::HttpConfig,
    entrypoints::http,
    service::Auth,
};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop_observability::logging::init(auth::SERVICE);
    let config = HttpConfig::from_env()?;
    let aws = shop_aws::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let auth = Auth {
        idp: IdentityProvider::new(
            aws_sdk_cognitoidentityprovider::Client::new(&aws),
            config.user_pool_id,
            config.client_id,
        ),
        attempts: LoginAttempts::new(dynamodb.clone(), config.attempts_table),
        customers: Customers::new(dynamodb, config.customers_table),
        policy: config.password_policy,
        lockout: config.lockout,
        auto_confirm: config.auto_confirm,
    };
    auth.idp.connect().await?;
    auth.attempts.connect().await?;
    auth.customers.connect().await?;
    lambda_http::run(http::router(auth)).await
}
