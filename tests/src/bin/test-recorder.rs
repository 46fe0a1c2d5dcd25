//! A Lambda function for the system tests: stores every event it receives in its table and
//! answers with what it stored and its process id, so a test can see what reached it and on
//! which instance. On request it misbehaves, to exercise the local Lambda runtime:
//! `{"crash": true}` exits the process, `{"sleep_ms": N}` takes N ms, a bus event for a
//! product named `fail-the-recorder` fails (to exercise retries and the DLQ), and a stream
//! batch holding an item with `poison: true` fails as a whole (to exercise bisection, retries
//! and the on-failure destination); the other stream items are recorded as `stream-<id>`.

use aws_sdk_dynamodb::{error::DisplayErrorContext, types::AttributeValue};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = shop_aws::required_env("RECORDER_TABLE")?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let (dynamodb, table) = (&dynamodb, table.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let payload = event.payload;
        if payload["crash"] == true {
            std::process::exit(3);
        }
        if let Some(ms) = payload["sleep_ms"].as_u64() {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        if payload["detail"]["data"]["name"] == "fail-the-recorder" {
            return Err(Error::from("asked to fail"));
        }
        if let Some(records) = payload["Records"].as_array() {
            let image = |record: &Value| record["dynamodb"]["NewImage"].clone();
            if records.iter().any(|r| image(r)["poison"]["BOOL"] == true) {
                return Err(Error::from("a poison record in the batch"));
            }
            for record in records {
                let id = format!(
                    "stream-{}",
                    image(record)["id"]["S"].as_str().unwrap_or("?")
                );
                dynamodb
                    .put_item()
                    .table_name(table)
                    .item("id", AttributeValue::S(id))
                    .item("event", AttributeValue::S(record.to_string()))
                    .send()
                    .await
                    .map_err(refused)?;
            }
            return Ok(json!({ "recorded": records.len() }));
        }
        let id = payload["id"]
            .as_str()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        dynamodb
            .put_item()
            .table_name(table)
            .item("id", AttributeValue::S(id.clone()))
            .item("event", AttributeValue::S(payload.to_string()))
            .send()
            .await
            .map_err(refused)?;
        Ok::<_, Error>(json!({ "recorded": id, "input": payload, "pid": std::process::id() }))
    }))
    .await
}

/// The whole error, so a test sees what AWS answered (an AccessDeniedException names the
/// action and resource only in its message).
fn refused(error: impl std::error::Error) -> Error {
    Error::from(DisplayErrorContext(error).to_string())
}
