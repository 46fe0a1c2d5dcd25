//! A Lambda function that does nothing but answer each event with itself: no logging, no
//! configuration, no AWS client. Its cold start is what lambda_runtime and a Tokio runtime cost
//! alone, the floor every function's is compared with (`make bench-cold`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
