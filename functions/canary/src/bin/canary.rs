//! The uptime canary as a Lambda function, run by an EventBridge schedule.

use canary::{config::Config, probe::Canary};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(canary::SERVICE);
    let config = Config::from_env()?;
    let canary = Canary::new(config.api_url)?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| canary::run(&canary))).await
}
