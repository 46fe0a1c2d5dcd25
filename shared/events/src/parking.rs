//! Stream records a handler cannot process, kept whole in the consumer's dead-letter queue.
//!
//! When a stream mapping gives up on a record, Lambda sends its on-failure destination only a
//! description (shard, sequence numbers), and the stream itself keeps the record for 24 hours:
//! a record that fails every retry is as good as lost by the time anyone looks. So a handler
//! that meets a record retrying cannot fix (an image that does not read, an event that cannot
//! be mapped or folded) parks it: the record exactly as Lambda delivered it goes to the
//! consumer's DLQ (`PARKING_QUEUE_URL`), counted as `RecordsParked`, and the handler reports it
//! as processed so the shard moves on. A redrive hands `{"Records": [record]}` back to the
//! function once the cause is fixed.
//!
//! A failure of what is around the record (DynamoDB or EventBridge unavailable, throttled,
//! misconfigured) is never parked: it is reported as the batch's item failure and Lambda
//! retries from that record. A record that cannot be parked (the queue unreachable) is reported
//! the same way, so it is never dropped.

use std::{error::Error, future::Future};

use aws_lambda_events::{
    dynamodb::EventRecord,
    streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse},
};
use serde::Deserialize;
use serde_json::{Value, json};
use shop_aws::{MissingSetting, required_env};
use shop_observability::{Metrics, metric_names};
use time::OffsetDateTime;

/// Whether retrying can fix a failure to process a stream record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Something around the record failed (a table or the bus unavailable): Lambda retries the
    /// record.
    Retry,
    /// The record itself cannot be processed: it is parked with its image and skipped.
    Park,
}

/// A stream handler's failure, read as what retrying can do about it.
pub trait Classify: Error {
    fn verdict(&self) -> Verdict;
}

/// A batch of stream records as Lambda delivers it. Each record stays the JSON it arrived as,
/// so a record that does not even read as a stream record can still be parked, and what is
/// parked is exactly what a redrive sends back.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records")]
    pub records: Vec<Value>,
}

impl From<aws_lambda_events::dynamodb::Event> for StreamBatch {
    /// A batch built from typed records (tests, tools that read a stream themselves).
    fn from(event: aws_lambda_events::dynamodb::Event) -> Self {
        Self {
            records: event
                .records
                .iter()
                .map(|record| {
                    // A struct of strings, numbers and string-keyed maps always serialises.
                    serde_json::to_value(record).expect("a stream record serialises")
                })
                .collect(),
        }
    }
}

/// A record that does not read as a DynamoDB stream record.
#[derive(Debug, thiserror::Error)]
#[error("not a DynamoDB stream record")]
pub struct Unreadable(#[source] pub serde_json::Error);

impl Classify for Unreadable {
    fn verdict(&self) -> Verdict {
        Verdict::Park
    }
}

/// Reads one record of a batch.
pub fn read(record: &Value) -> Result<EventRecord, Unreadable> {
    serde_json::from_value(record.clone()).map_err(Unreadable)
}

/// The batch response that makes Lambda retry from `record` (and keep everything before it).
pub fn retry_from(record: &Value) -> DynamoDbEventResponse {
    let mut failure = DynamoDbBatchItemFailure::default();
    // Without a sequence number Lambda cannot resume at the record and retries the whole
    // batch, which still loses nothing.
    failure.item_identifier = record
        .pointer("/dynamodb/SequenceNumber")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures.push(failure);
    response
}

/// The DLQ a stream function parks records in.
#[derive(Debug, Clone)]
pub struct ParkingQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    function: String,
    service: String,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot park the record in {queue_url}")]
pub struct ParkError {
    queue_url: String,
    #[source]
    source: Box<aws_sdk_sqs::Error>,
}

impl ParkingQueue {
    /// `function` is named in every parked message, `service` is the metrics' dimension.
    pub fn new(
        client: aws_sdk_sqs::Client,
        queue_url: impl Into<String>,
        function: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            function: function.into(),
            service: service.into(),
        }
    }

    /// The queue in `PARKING_QUEUE_URL` (the template's `!Ref` of the function's DLQ), for the
    /// function Lambda runs (`AWS_LAMBDA_FUNCTION_NAME`).
    pub fn from_env(
        client: aws_sdk_sqs::Client,
        service: impl Into<String>,
    ) -> Result<Self, MissingSetting> {
        Ok(Self::new(
            client,
            required_env("PARKING_QUEUE_URL")?,
            required_env("AWS_LAMBDA_FUNCTION_NAME")?,
            service,
        ))
    }

    /// Sends `record` with the reason it cannot be processed to the queue and counts it.
    pub async fn park(&self, record: &Value, reason: &str) -> Result<(), ParkError> {
        let message = parked_message(record, reason, &self.function, OffsetDateTime::now_utc());
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.to_string())
            .send()
            .await
            .map_err(|error| ParkError {
                queue_url: self.queue_url.clone(),
                source: Box::new(error.into()),
            })?;
        let sequence_number = record.pointer("/dynamodb/SequenceNumber").cloned();
        tracing::error!(%reason, ?sequence_number, "stream record parked in the dead-letter queue for a redrive");
        Metrics::new(&self.service)
            .property("function", self.function.as_str())
            .property("reason", reason)
            .count(metric_names::RECORDS_PARKED.name, 1)
            .emit();
        Ok(())
    }
}

/// The message a parked record travels in: why, by whom and when, and the record as received.
pub fn parked_message(record: &Value, reason: &str, function: &str, at: OffsetDateTime) -> Value {
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string());
    json!({
        "parked": { "reason": reason, "function": function, "at": at },
        "record": record,
    })
}

/// Handles a batch one record at a time, in order: a record `handler` fails on with
/// [`Verdict::Park`] (or one that does not read) is parked and skipped; the first that fails
/// with [`Verdict::Retry`], or cannot be parked, is reported so Lambda retries from it, and
/// nothing after it is touched.
pub async fn handle_each<H, F, E>(
    batch: &StreamBatch,
    parking: &ParkingQueue,
    handler: H,
) -> DynamoDbEventResponse
where
    H: Fn(EventRecord) -> F,
    F: Future<Output = Result<(), E>>,
    E: Classify,
{
    for raw in &batch.records {
        let (verdict, reason) = match read(raw) {
            Err(unreadable) => (unreadable.verdict(), crate::error_chain(&unreadable)),
            Ok(record) => match handler(record).await {
                Ok(()) => continue,
                Err(error) => (error.verdict(), crate::error_chain(&error)),
            },
        };
        if verdict == Verdict::Retry {
            tracing::error!(error = %reason, "stream record failed; Lambda will retry the batch from it");
            return retry_from(raw);
        }
        if let Err(park_error) = parking.park(raw, &reason).await {
            tracing::error!(error = %crate::error_chain(&park_error), %reason, "a record that cannot be processed could not be parked; Lambda will retry it");
            return retry_from(raw);
        }
    }
    DynamoDbEventResponse::default()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn record(sequence_number: &str) -> Value {
        json!({
            "eventID": "1",
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/s",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_764_237_600.0,
                "Keys": {"id": {"S": "p-1"}},
                "NewImage": {"id": {"S": "p-1"}, "version": {"N": "2"}},
                "SequenceNumber": sequence_number,
                "SizeBytes": 26,
                "StreamViewType": "NEW_IMAGE"
            }
        })
    }

    #[test]
    fn a_parked_message_carries_the_record_as_received_and_why() {
        let received = record("100");
        let message = parked_message(
            &received,
            "cannot map stream record: product image: missing field `version`",
            "shop-prod-CatalogPublisherFunction",
            datetime!(2026-11-27 10:00 UTC),
        );
        assert_eq!(
            message["parked"],
            json!({
                "reason": "cannot map stream record: product image: missing field `version`",
                "function": "shop-prod-CatalogPublisherFunction",
                "at": "2026-11-27T10:00:00Z",
            })
        );
        assert_eq!(
            message["record"], received,
            "a redrive sends back exactly this"
        );
    }

    #[test]
    fn a_batch_from_typed_records_reads_back_as_the_same_records() {
        let typed: aws_lambda_events::dynamodb::Event =
            serde_json::from_value(json!({"Records": [record("100"), record("200")]})).unwrap();
        let batch = StreamBatch::from(typed.clone());
        let read_back: Vec<EventRecord> = batch.records.iter().map(|r| read(r).unwrap()).collect();
        assert_eq!(read_back, typed.records);
    }

    #[test]
    fn a_record_that_does_not_read_is_parked_not_retried() {
        let error = read(&json!({"eventName": "INSERT"})).unwrap_err();
        assert_eq!(error.verdict(), Verdict::Park);
    }

    #[test]
    fn a_retry_resumes_at_the_record_by_its_sequence_number() {
        let response = retry_from(&record("200"));
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(
            response.batch_item_failures[0].item_identifier.as_deref(),
            Some("200")
        );
    }
}
