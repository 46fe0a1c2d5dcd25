//! DynamoDB stream → function, as Lambda's event source mapping does it: batches of up to
//! `BatchSize` records in order per shard; a failed batch is retried (from the first failed
//! record with `ReportBatchItemFailures`, halved with `BisectBatchOnFunctionError`) until
//! `MaximumRetryAttempts`, then described to the on-failure destination and skipped.

use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodbstreams::{
    Client,
    types::{AttributeValue, OperationType, Record, ShardIteratorType, StreamViewType},
};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::lambda::{Lambda, Outcome};

/// One stream wired to one function.
#[derive(Debug, Clone)]
pub struct StreamMapping {
    pub function: String,
    pub stream_arn: String,
    pub trim_horizon: bool,
    pub batch_size: usize,
    pub max_retries: Option<u32>,
    pub report_batch_item_failures: bool,
    pub bisect_on_error: bool,
    /// SQS queue URL of the on-failure destination.
    pub on_failure: Option<String>,
}

const IDLE_POLL: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the mapping until the task is aborted.
pub async fn run(
    mapping: StreamMapping,
    streams: Client,
    sqs: aws_sdk_sqs::Client,
    lambda: Lambda,
) {
    let mut shards: HashMap<String, Option<String>> = HashMap::new();
    loop {
        if let Err(error) = discover_shards(&mapping, &streams, &mut shards).await {
            tracing::warn!(stream = %mapping.stream_arn, %error, "cannot describe the stream");
        }
        let mut any_records = false;
        for iterator in shards.values_mut() {
            let Some(current) = iterator.clone() else {
                continue;
            };
            let page = match streams
                .get_records()
                .shard_iterator(current)
                .limit(i32::try_from(mapping.batch_size).unwrap_or(1000))
                .send()
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(stream = %mapping.stream_arn, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error), "GetRecords failed");
                    continue;
                }
            };
            iterator.clone_from(&page.next_shard_iterator);
            if !page.records().is_empty() {
                any_records = true;
                deliver(&mapping, page.records(), &sqs, &lambda).await;
            }
        }
        if !any_records {
            tokio::time::sleep(IDLE_POLL).await;
        }
    }
}

async fn discover_shards(
    mapping: &StreamMapping,
    streams: &Client,
    shards: &mut HashMap<String, Option<String>>,
) -> Result<(), aws_sdk_dynamodbstreams::Error> {
    let description = streams
        .describe_stream()
        .stream_arn(&mapping.stream_arn)
        .send()
        .await?;
    for shard in description
        .stream_description()
        .map(aws_sdk_dynamodbstreams::types::StreamDescription::shards)
        .unwrap_or_default()
    {
        let Some(id) = shard.shard_id() else { continue };
        if shards.contains_key(id) {
            continue;
        }
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&mapping.stream_arn)
            .shard_id(id)
            .shard_iterator_type(if mapping.trim_horizon {
                ShardIteratorType::TrimHorizon
            } else {
                ShardIteratorType::Latest
            })
            .send()
            .await?
            .shard_iterator;
        shards.insert(id.to_owned(), iterator);
    }
    Ok(())
}

/// Delivers one page of records, retrying as configured; returns when every record has been
/// processed or handed to the on-failure destination.
async fn deliver(
    mapping: &StreamMapping,
    records: &[Record],
    sqs: &aws_sdk_sqs::Client,
    lambda: &Lambda,
) {
    let events: Vec<Value> = records
        .iter()
        .map(|r| lambda_record(r, &mapping.stream_arn))
        .collect();
    let mut start = 0;
    while start < events.len() {
        let mut end = events.len();
        let mut attempts = 0;
        let mut backoff = Duration::from_millis(100);
        loop {
            let batch = &events[start..end];
            match invoke(mapping, lambda, batch).await {
                BatchResult::Done => {
                    start = end;
                    break;
                }
                BatchResult::FailedFrom(index) => {
                    // Everything before the reported record is done.
                    start += index;
                    end = events.len();
                }
                BatchResult::Failed => {
                    if mapping.bisect_on_error && end - start > 1 {
                        end = start + (end - start) / 2;
                    }
                }
            }
            attempts += 1;
            if mapping.max_retries.is_some_and(|max| attempts > max) {
                give_up(mapping, sqs, &events[start..end], attempts).await;
                start = end;
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

enum BatchResult {
    Done,
    /// The function reported this record (index in the batch) as the first failure.
    FailedFrom(usize),
    Failed,
}

async fn invoke(mapping: &StreamMapping, lambda: &Lambda, batch: &[Value]) -> BatchResult {
    let payload = Bytes::from(json!({ "Records": batch }).to_string());
    match lambda.invoke(&mapping.function, payload).await {
        Some(Outcome::Success(response)) if mapping.report_batch_item_failures => {
            let response: Value = serde_json::from_slice(&response).unwrap_or(Value::Null);
            let failed: Vec<&str> = response["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            let first = batch.iter().position(|record| {
                record["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .is_some_and(|seq| failed.contains(&seq))
            });
            match (failed.is_empty(), first) {
                (true, _) => BatchResult::Done,
                (false, Some(index)) if index > 0 => BatchResult::FailedFrom(index),
                // The first record failed, or an identifier names no record of the batch
                // (which fails the whole batch, as in Lambda).
                (false, _) => BatchResult::Failed,
            }
        }
        Some(Outcome::Success(_)) => BatchResult::Done,
        Some(Outcome::Error { error_type, .. }) => {
            tracing::warn!(function = %mapping.function, %error_type, "stream batch failed");
            BatchResult::Failed
        }
        None => BatchResult::Failed,
    }
}

/// Sends the on-failure record Lambda sends for a discarded batch (its metadata, not the
/// records), or logs it when there is no destination.
async fn give_up(
    mapping: &StreamMapping,
    sqs: &aws_sdk_sqs::Client,
    batch: &[Value],
    attempts: u32,
) {
    let first = &batch[0]["dynamodb"]["SequenceNumber"];
    let last = &batch[batch.len() - 1]["dynamodb"]["SequenceNumber"];
    let message = json!({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts, "functionArn": mapping.function},
        "DDBStreamBatchInfo": {
            "streamArn": mapping.stream_arn,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "batchSize": batch.len(),
        }
    });
    tracing::error!(function = %mapping.function, batch = %message, "stream batch discarded after its retries");
    if let Some(queue) = &mapping.on_failure {
        let _ = sqs
            .send_message()
            .queue_url(queue)
            .message_body(message.to_string())
            .send()
            .await;
    }
}

/// A stream record in the shape Lambda delivers it.
pub fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb();
    let mut dynamodb = json!({
        "Keys": image(change.and_then(|c| c.keys())),
        "SequenceNumber": change.and_then(|c| c.sequence_number()),
        "SizeBytes": change.and_then(aws_sdk_dynamodbstreams::types::StreamRecord::size_bytes),
        "StreamViewType": change.and_then(|c| c.stream_view_type()).map(StreamViewType::as_str),
        "ApproximateCreationDateTime": change
            .and_then(|c| c.approximate_creation_date_time())
            .map_or(0, aws_sdk_dynamodbstreams::primitives::DateTime::secs),
    });
    if let Some(new_image) = change.and_then(|c| c.new_image()) {
        dynamodb["NewImage"] = image(Some(new_image));
    }
    if let Some(old_image) = change.and_then(|c| c.old_image()) {
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
    serde_json::to_value(item).unwrap_or(Value::Null)
}
