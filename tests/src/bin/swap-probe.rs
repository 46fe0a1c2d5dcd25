//! A stand-in for a new build of an HTTP function, which the deploy test puts in place of the
//! catalog's code with `cargo lambda deploy`. It answers every API Gateway request with the
//! version it runs as, so the test sees which code served a call. With `?gate=<path>` it
//! creates `<path>.entered` and holds the call until `<path>` exists: the test can deploy
//! while the call is certainly in flight.

use std::{path::PathBuf, time::Duration};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let version = std::env::var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_default();
    let version = version.as_str();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if let Some(gate) = event.payload["queryStringParameters"]["gate"].as_str() {
            let gate = PathBuf::from(gate);
            std::fs::write(gate.with_extension("entered"), b"")?;
            while !gate.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok::<_, Error>(json!({
            "statusCode": 200,
            "headers": { "content-type": "application/json" },
            "body": json!({ "probe": true, "version": version }).to_string(),
        }))
    }))
    .await
}
