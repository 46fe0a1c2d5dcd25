//! A table's DynamoDB stream read from the emulator and shaped as the event Lambda delivers.

use std::collections::HashMap;

use aws_lambda_events::dynamodb::Event;
use aws_sdk_dynamodbstreams::{
    Client,
    types::{AttributeValue, OperationType, Record, ShardIteratorType, StreamViewType},
};
use serde_json::{Value, json};

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
            records.extend(page.records().iter().map(|r| lambda_record(r, stream_arn)));
            iterator = page.next_shard_iterator;
        }
    }
    serde_json::from_value(json!({ "Records": records })).expect("a Lambda DynamoDB stream event")
}

/// One record in the shape Lambda's event source mapping delivers it.
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb().expect("a stream record has a change");
    let mut dynamodb = json!({
        "Keys": image(change.keys()),
        "SequenceNumber": change.sequence_number(),
        "SizeBytes": change.size_bytes(),
        "StreamViewType": change.stream_view_type().map(StreamViewType::as_str),
        "ApproximateCreationDateTime": change
            .approximate_creation_date_time()
            .map_or(0, aws_sdk_dynamodbstreams::primitives::DateTime::secs),
    });
    if let Some(new_image) = change.new_image() {
        dynamodb["NewImage"] = image(Some(new_image));
    }
    if let Some(old_image) = change.old_image() {
        dynamodb["OldImage"] = image(Some(old_image));
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(OperationType::as_str),
        "eventVersion": record.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region(),
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb,
    })
}

fn image(attributes: Option<&HashMap<String, AttributeValue>>) -> Value {
    let item = serde_dynamo::Item::from(attributes.cloned().unwrap_or_default());
    serde_json::to_value(item).expect("an item serialises")
}
