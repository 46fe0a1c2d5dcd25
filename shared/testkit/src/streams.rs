//! A table's DynamoDB stream read from the emulator and shaped as the event Lambda delivers.

use aws_lambda_events::dynamodb::Event;
use aws_sdk_dynamodbstreams::{Client, types::ShardIteratorType};
use serde_json::json;

/// Every record currently in the stream, oldest first, as one Lambda stream event.
pub async fn read_all(client: &Client, stream_arn: &str) -> Event {
    let stream = client
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("describe stream");
    let shards = stream
        .stream_description()
        .map(|d| d.shards().to_vec())
        .unwrap_or_default();

    let mut records = Vec::new();
    for shard in shards {
        let mut iterator = client
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("get shard iterator")
            .shard_iterator;
        while let Some(current) = iterator {
            let page = client
                .get_records()
                .shard_iterator(current)
                .send()
                .await
                .expect("get records");
            if page.records().is_empty() {
                break;
            }
            records.extend(
                page.records()
                    .iter()
                    .map(|r| devstack::sources::streams::lambda_record(r, stream_arn)),
            );
            iterator = page.next_shard_iterator;
        }
    }
    serde_json::from_value(json!({ "Records": records })).expect("a Lambda DynamoDB stream event")
}
