//! DynamoDB stream → function, as Lambda's event source mapping does it
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html>, and "Error
//! handling" for stream sources):
//! - batches of up to `BatchSize` records, in order per shard, gathered for up to
//!   `MaximumBatchingWindowInSeconds` when fewer are waiting;
//! - a failed batch is retried; with `ReportBatchItemFailures` from the first failed record (a
//!   malformed or unknown `itemIdentifier` fails the whole batch); with
//!   `BisectBatchOnFunctionError` split in two first (splits do not use up retries);
//! - `MaximumRetryAttempts` retries per batch (counted again after progress), and records
//!   older than `MaximumRecordAgeInSeconds` are not sent; either way the batch's description
//!   goes to the on-failure destination and the shard moves on (without a destination the
//!   records are lost: devstack says so and counts it);
//! - a failed `GetRecords` resumes after the last delivered record, never from a stale iterator.
//!
//! Ages and the batching window are divided by the stage's time scale, like every AWS wait.

use std::{
    collections::{HashMap, VecDeque},
    ops::Range,
    time::{Duration, SystemTime},
};

use aws_sdk_dynamodbstreams::{
    Client,
    types::{AttributeValue, OperationType, Record, ShardIteratorType, StreamViewType},
};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::{
    counters::Counter,
    faults::Fault,
    lambda::{Lambda, Outcome, destination::send_failure_record},
    stack::Controls,
    template::properties::serverless::StartingPosition,
};

/// One stream wired to one function.
#[derive(Debug, Clone)]
pub struct StreamMapping {
    pub function: String,
    pub stream_arn: String,
    pub starting_position: StartingPosition,
    pub batch_size: usize,
    pub batching_window: Duration,
    /// `None`: retry until the records expire (AWS's default of -1).
    pub max_retries: Option<u32>,
    /// `None`: records of any age are sent (AWS's default of -1).
    pub max_record_age: Option<Duration>,
    pub report_batch_item_failures: bool,
    pub bisect_on_error: bool,
    /// SQS queue URL of the on-failure destination.
    pub on_failure: Option<String>,
}

/// What a mapping needs besides its settings.
#[derive(Debug, Clone)]
pub struct Poller {
    pub streams: Client,
    pub sqs: aws_sdk_sqs::Client,
    pub lambda: Lambda,
    /// Counters, injected faults, and the time scale AWS's waits (record ages, the batching
    /// window) are divided by.
    pub controls: Controls,
}

/// How long an idle mapping waits before it looks again, unless a table write passing the edge
/// wakes it: short at first, then longer, so an idle stack does not keep moto busy. Writes
/// the edge does not see (devstack's own) are read within the longest wait.
const IDLE_POLL: Duration = Duration::from_millis(200);
const MAX_IDLE_POLL: Duration = Duration::from_secs(30);
const WINDOW_POLL: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a mapping looks for new shards. A shard is replaced only when it closes (after
/// hours on AWS, never on moto); describing the stream on every read doubled the calls.
const SHARD_DISCOVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct Shard {
    /// `None` once the shard is closed and read to its end.
    iterator: Option<String>,
    /// The last record handed to the function (or given up on): where reading resumes.
    last_delivered: Option<String>,
    /// A read failed: the iterator may be stale, so the next read resumes from
    /// `last_delivered`.
    stale: bool,
}

/// Runs the mapping until the task is aborted.
pub async fn run(mapping: StreamMapping, poller: Poller) {
    let mut shards: HashMap<String, Shard> = HashMap::new();
    let mut idle_poll = IDLE_POLL;
    let mut discovered: Option<tokio::time::Instant> = None;
    let table_writes = poller.controls.table_writes.of(&mapping.stream_arn);
    loop {
        // Registered before reading, so a write while the shards are read still wakes the wait.
        let written = table_writes.notified();
        tokio::pin!(written);
        written.as_mut().enable();
        if discovered.is_none_or(|at| at.elapsed() >= SHARD_DISCOVERY) {
            match discover_shards(&mapping, &poller.streams, &mut shards).await {
                Ok(()) => discovered = Some(tokio::time::Instant::now()),
                Err(error) => {
                    tracing::warn!(stream = %mapping.stream_arn, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error), "cannot describe the stream");
                }
            }
        }
        let mut any_records = false;
        for (shard_id, shard) in &mut shards {
            let records = read_batch(&mapping, &poller, shard_id, shard).await;
            if let Some(last) = records.last() {
                any_records = true;
                let last = last
                    .dynamodb()
                    .and_then(|c| c.sequence_number())
                    .map(str::to_owned);
                deliver(&mapping, &poller, shard_id, &records).await;
                shard.last_delivered = last;
            }
        }
        if any_records {
            idle_poll = IDLE_POLL;
        } else {
            tokio::select! {
                () = tokio::time::sleep(idle_poll) => idle_poll = (idle_poll * 2).min(MAX_IDLE_POLL),
                () = written => idle_poll = IDLE_POLL,
            }
        }
    }
}

/// Up to `BatchSize` records of one shard, waiting up to the batching window for more when
/// fewer are there.
async fn read_batch(
    mapping: &StreamMapping,
    poller: &Poller,
    shard_id: &str,
    shard: &mut Shard,
) -> Vec<Record> {
    let window = mapping.batching_window / poller.controls.time_scale.max(1);
    let started = tokio::time::Instant::now();
    let mut records = Vec::new();
    if shard.stale {
        match resume(mapping, &poller.streams, shard_id, shard).await {
            Ok(iterator) => {
                shard.iterator = iterator;
                shard.stale = false;
            }
            Err(error) => {
                tracing::warn!(stream = %mapping.stream_arn, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error), "cannot resume the shard; trying again");
                return records;
            }
        }
    }
    loop {
        let Some(iterator) = shard.iterator.clone() else {
            return records;
        };
        let wanted = mapping.batch_size - records.len();
        match poller
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(i32::try_from(wanted).unwrap_or(1000))
            .send()
            .await
        {
            Ok(page) => {
                shard.iterator.clone_from(&page.next_shard_iterator);
                records.extend(page.records.unwrap_or_default());
            }
            Err(error) => {
                tracing::warn!(stream = %mapping.stream_arn, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error), "GetRecords failed; resuming after the last delivered record");
                // What was read in this window is read again from the resumed iterator.
                records.clear();
                shard.stale = true;
                return records;
            }
        }
        if records.is_empty() || records.len() >= mapping.batch_size || started.elapsed() >= window
        {
            return records;
        }
        tokio::time::sleep(WINDOW_POLL.min(window.saturating_sub(started.elapsed()))).await;
    }
}

/// A fresh iterator after the last delivered record (or at the mapping's starting position
/// when nothing was delivered yet).
async fn resume(
    mapping: &StreamMapping,
    streams: &Client,
    shard_id: &str,
    shard: &Shard,
) -> Result<Option<String>, aws_sdk_dynamodbstreams::Error> {
    let request = streams
        .get_shard_iterator()
        .stream_arn(&mapping.stream_arn)
        .shard_id(shard_id);
    let request = match &shard.last_delivered {
        Some(sequence) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number(sequence),
        None => request.shard_iterator_type(starting_position(mapping)),
    };
    Ok(request.send().await?.shard_iterator)
}

fn starting_position(mapping: &StreamMapping) -> ShardIteratorType {
    match mapping.starting_position {
        StartingPosition::TrimHorizon => ShardIteratorType::TrimHorizon,
        StartingPosition::Latest => ShardIteratorType::Latest,
    }
}

async fn discover_shards(
    mapping: &StreamMapping,
    streams: &Client,
    shards: &mut HashMap<String, Shard>,
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
            .shard_iterator_type(starting_position(mapping))
            .send()
            .await?
            .shard_iterator;
        shards.insert(
            id.to_owned(),
            Shard {
                iterator,
                last_delivered: None,
                stale: false,
            },
        );
    }
    Ok(())
}

/// Why a mapping gave up on records, as the on-failure record names it.
#[derive(Debug, Clone, Copy)]
enum GivenUp {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

/// A run of records still to deliver and the retries it has used.
#[derive(Debug, Clone)]
struct Pending {
    range: Range<usize>,
    retries: u32,
}

/// Delivers the records read from one shard, in order, as the mapping's rules say; returns
/// when each has been processed or given up on.
async fn deliver(mapping: &StreamMapping, poller: &Poller, shard_id: &str, records: &[Record]) {
    let events: Vec<Value> = records
        .iter()
        .map(|r| lambda_record(r, &mapping.stream_arn))
        .collect();
    let max_age = mapping
        .max_record_age
        .map(|age| age / poller.controls.time_scale.max(1));
    let mut queue = VecDeque::from([Pending {
        range: 0..events.len(),
        retries: 0,
    }]);
    let mut backoff = Duration::from_millis(100);
    while let Some(Pending { range, retries }) = queue.pop_front() {
        let fresh_from = max_age.map_or(range.start, |age| {
            (range.start..range.end)
                .find(|&i| !older_than(&records[i], age))
                .unwrap_or(range.end)
        });
        if fresh_from > range.start {
            let expired = range.start..fresh_from;
            give_up(
                mapping,
                poller,
                shard_id,
                &events[expired],
                GivenUp::RecordAgeExceeded,
                retries + 1,
            )
            .await;
            if fresh_from < range.end {
                queue.push_front(Pending {
                    range: fresh_from..range.end,
                    retries,
                });
            }
            continue;
        }
        match invoke(mapping, poller, &events[range.clone()]).await {
            BatchResult::Done => backoff = Duration::from_millis(100),
            BatchResult::FailedFrom(index) => {
                // Everything before the reported record is done: progress, so its retries
                // start again.
                queue.push_front(Pending {
                    range: range.start + index..range.end,
                    retries: 0,
                });
            }
            BatchResult::Failed if mapping.bisect_on_error && range.len() > 1 => {
                let middle = range.start + range.len() / 2;
                queue.push_front(Pending {
                    range: middle..range.end,
                    retries,
                });
                queue.push_front(Pending {
                    range: range.start..middle,
                    retries,
                });
            }
            BatchResult::Failed => {
                if mapping.max_retries.is_some_and(|max| retries >= max) {
                    give_up(
                        mapping,
                        poller,
                        shard_id,
                        &events[range],
                        GivenUp::RetryAttemptsExhausted,
                        retries + 1,
                    )
                    .await;
                    continue;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                queue.push_front(Pending {
                    range,
                    retries: retries + 1,
                });
            }
        }
    }
}

fn older_than(record: &Record, age: Duration) -> bool {
    record
        .dynamodb()
        .and_then(|c| c.approximate_creation_date_time())
        .and_then(|created| SystemTime::try_from(*created).ok())
        .and_then(|created| created.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Lambda's `IteratorAge`: how old the batch's last record is when the function gets it.
fn record_iterator_age(mapping: &StreamMapping, poller: &Poller, batch: &[Value]) {
    let Some(created) = batch
        .last()
        .and_then(|r| r["dynamodb"]["ApproximateCreationDateTime"].as_f64())
    else {
        return;
    };
    let Some(pool) = poller.lambda.function(&mapping.function) else {
        return;
    };
    let now = crate::monitoring::now_ms();
    let age_ms =
        (f64::from(u32::try_from(now / 1000).unwrap_or(u32::MAX)) - created).max(0.0) * 1000.0;
    poller.controls.monitoring.put(
        crate::monitoring::MetricKey::new(
            "AWS/Lambda",
            "IteratorAge",
            &[("FunctionName", &pool.spec().name)],
        ),
        age_ms,
        "Milliseconds",
    );
}

enum BatchResult {
    Done,
    /// The function reported this record (index in the batch, > 0) as the first failure.
    FailedFrom(usize),
    Failed,
}

async fn invoke(mapping: &StreamMapping, poller: &Poller, batch: &[Value]) -> BatchResult {
    record_iterator_age(mapping, poller, batch);
    let payload = Bytes::from(json!({ "Records": batch }).to_string());
    let lambda = &poller.lambda;
    match poller
        .controls
        .faults
        .fire(&mapping.function, &payload, |f| !f.is_invocation_fault())
    {
        // An injected duplicate: the batch is delivered once more before its real delivery.
        Some(Fault::Duplicate) => {
            let _ = lambda.invoke(&mapping.function, payload.clone()).await;
        }
        Some(Fault::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    match lambda.invoke(&mapping.function, payload).await {
        Some(Outcome::Success(response)) if mapping.report_batch_item_failures => {
            let result = batch_item_failures(&response, batch);
            if !matches!(result, BatchResult::Done) {
                tracing::warn!(function = %mapping.function, response = %String::from_utf8_lossy(&response), "stream batch reported failed items");
            }
            result
        }
        Some(Outcome::Success(_)) => BatchResult::Done,
        Some(Outcome::Error { error_type, .. }) => {
            tracing::warn!(function = %mapping.function, %error_type, "stream batch failed");
            BatchResult::Failed
        }
        None => BatchResult::Failed,
    }
}

/// Reads a partial batch response. An empty or absent list is a success; an entry whose
/// `itemIdentifier` is missing, empty or names no record of the batch fails the whole batch,
/// as Lambda treats it.
fn batch_item_failures(response: &[u8], batch: &[Value]) -> BatchResult {
    let response: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let Some(failures) = response.get("batchItemFailures").filter(|f| !f.is_null()) else {
        return BatchResult::Done;
    };
    let Some(failures) = failures.as_array() else {
        return BatchResult::Failed;
    };
    let mut first: Option<usize> = None;
    for failure in failures {
        let position = failure["itemIdentifier"].as_str().and_then(|id| {
            batch
                .iter()
                .position(|record| record["dynamodb"]["SequenceNumber"].as_str() == Some(id))
        });
        match position {
            Some(index) => first = Some(first.map_or(index, |f| f.min(index))),
            None => return BatchResult::Failed,
        }
    }
    match first {
        None => BatchResult::Done,
        Some(0) => BatchResult::Failed,
        Some(index) => BatchResult::FailedFrom(index),
    }
}

/// Sends the record Lambda sends for discarded stream records (their description, not the
/// records), or reports them lost when there is no destination.
async fn give_up(
    mapping: &StreamMapping,
    poller: &Poller,
    shard_id: &str,
    batch: &[Value],
    condition: GivenUp,
    attempts: u32,
) {
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
        return;
    };
    let message = json!({
        "version": "1.0",
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": mapping.function,
            "condition": format!("{condition:?}"),
            "approximateInvokeCount": attempts,
        },
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": first["dynamodb"]["ApproximateCreationDateTime"],
            "approximateArrivalOfLastRecord": last["dynamodb"]["ApproximateCreationDateTime"],
            "batchSize": batch.len(),
            "streamArn": mapping.stream_arn,
        }
    });
    poller
        .controls
        .counters
        .add(Counter::StreamDiscarded, &mapping.function);
    let sent = send_failure_record(&poller.sqs, mapping.on_failure.as_deref(), &message).await;
    poller.controls.activity.touch();
    match sent {
        Ok(()) => {
            tracing::error!(function = %mapping.function, batch = %message, "stream records discarded; their description is in the on-failure destination");
        }
        Err(why) => {
            poller
                .controls
                .counters
                .add(Counter::StreamLost, &mapping.function);
            tracing::error!(function = %mapping.function, batch = %message, %why, "lost: stream records discarded with no record of them, as Lambda discards them without an on-failure destination");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Vec<Value> {
        ["100", "200", "300"]
            .iter()
            .map(|seq| json!({"dynamodb": {"SequenceNumber": seq}}))
            .collect()
    }

    fn result(response: &Value) -> String {
        match batch_item_failures(response.to_string().as_bytes(), &batch()) {
            BatchResult::Done => "done".to_owned(),
            BatchResult::FailedFrom(index) => format!("from {index}"),
            BatchResult::Failed => "failed".to_owned(),
        }
    }

    #[test]
    fn no_reported_failures_is_a_success() {
        assert_eq!(result(&json!({})), "done");
        assert_eq!(result(&json!({"batchItemFailures": null})), "done");
        assert_eq!(result(&json!({"batchItemFailures": []})), "done");
    }

    #[test]
    fn processing_resumes_from_the_lowest_reported_record() {
        assert_eq!(
            result(
                &json!({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]})
            ),
            "from 1"
        );
        assert_eq!(
            result(&json!({"batchItemFailures": [{"itemIdentifier": "100"}]})),
            "failed"
        );
    }

    #[test]
    fn a_malformed_or_unknown_identifier_fails_the_whole_batch() {
        for response in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"id": "200"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "999"}]}),
            json!({"batchItemFailures": "200"}),
        ] {
            assert_eq!(result(&response), "failed", "{response}");
        }
    }
}
