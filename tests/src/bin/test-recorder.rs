//! A Lambda function for the system tests: stores every event it receives in its table and
//! answers with what it stored, so a test can see what reached it and how.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = shop_aws::required_env("RECORDER_TABLE")?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let (dynamodb, table) = (&dynamodb, table.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let id = event.payload["id"]
            .as_str()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        dynamodb
            .put_item()
            .table_name(table)
            .item("id", AttributeValue::S(id.clone()))
            .item("event", AttributeValue::S(event.payload.to_string()))
            .send()
            .await?;
        Ok::<_, Error>(json!({ "recorded": id, "input": event.payload }))
    }))
    .await
}
