//! DynamoDB stream → EventBridge.
//!
//! Lambda delivers a batch of stream records in order. Each record is mapped to at most one
//! integration event by the owning service's [`StreamMapper`]; events go out in `PutEvents`
//! calls of up to ten, and entries EventBridge refuses for a passing reason (`InternalFailure`,
//! `ThrottlingException`) are retried with backoff.
//!
//! A record that cannot be published as it is (it does not read, the mapper cannot map it,
//! EventBridge refuses its event for good) is parked with its image ([`crate::parking`]) and
//! skipped. When EventBridge cannot be reached or keeps refusing, the handler stops and reports
//! the first unpublished record as the batch's item failure: Lambda keeps everything before it
//! as done and redelivers from it, so nothing is skipped and per-aggregate order holds, except
//! around a parked record, whose event goes out when it is redriven. Redelivered events carry
//! the same `event_id`, so consumers drop duplicates.

use std::time::Duration;

use aws_lambda_events::{dynamodb::EventRecord, streams::DynamoDbEventResponse};
use aws_sdk_eventbridge::{Client, error::DisplayErrorContext, types::PutEventsRequestEntry};
use serde_json::Value;
use shop_observability::{Metrics, metric_names};

use crate::{
    Envelope,
    parking::{self, Classify, ParkingQueue, StreamBatch, Unreadable, Verdict},
};

/// EventBridge accepts at most ten entries per `PutEvents` call.
const MAX_ENTRIES_PER_CALL: usize = 10;
/// Attempts for entries EventBridge reports as failed (the SDK already retries whole calls
/// on throttling and transport errors).
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The entry error codes EventBridge documents as retryable; every other refusal (an invalid
/// argument, a malformed detail, a source the caller may not use) is the same on every try.
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html>
const RETRYABLE_REFUSALS: [&str; 2] = ["InternalFailure", "ThrottlingException"];

/// The service-specific half of the publisher: which event a change of one of its items
/// announces.
pub trait StreamMapper: Send + Sync {
    /// The EventBridge `source`, e.g. `shop.catalog`.
    fn source(&self) -> &'static str;

    /// The event a stream record announces, or `None` when it announces nothing (a change
    /// that is not a new version, an item that is not an aggregate).
    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError>;
}

/// A stream record the mapper cannot read. Retrying will not fix it, so the publisher parks it.
#[derive(Debug, thiserror::Error)]
#[error("cannot map stream record: {0}")]
pub struct MapError(pub String);

/// Why one record's event was not published.
#[derive(Debug, thiserror::Error)]
enum Unpublished {
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Unmappable(#[from] MapError),
    #[error("cannot serialise the event")]
    Serialise(#[from] serde_json::Error),
    #[error("EventBridge refused the event: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("PutEvents failed: {}", DisplayErrorContext(.0))]
    Call(Box<aws_sdk_eventbridge::Error>),
}

impl Classify for Unpublished {
    fn verdict(&self) -> Verdict {
        match self {
            Self::Refused { code, .. } if RETRYABLE_REFUSALS.contains(&code.as_str()) => {
                Verdict::Retry
            }
            Self::Call(_) => Verdict::Retry,
            Self::Unreadable(_)
            | Self::Unmappable(_)
            | Self::Serialise(_)
            | Self::Refused { .. } => Verdict::Park,
        }
    }
}

/// A record whose event is ready to go out.
#[derive(Debug)]
struct Pending<'a> {
    record: &'a Value,
    envelope: Envelope,
    entry: PutEventsRequestEntry,
}

/// What one `PutEvents` chunk came to after its retries, by position in the chunk.
#[derive(Debug, Default)]
struct ChunkOutcome {
    /// Entries EventBridge did not take: for good, or still refusing after every attempt.
    refused: Vec<(usize, Unpublished)>,
    /// The call itself failed with these entries still unsent.
    unsent: Option<(Vec<usize>, Unpublished)>,
}

#[derive(Debug, Default)]
struct Tally {
    published: usize,
}

#[derive(Debug)]
pub struct Publisher<M> {
    client: Client,
    bus_name: String,
    mapper: M,
    parking: ParkingQueue,
}

impl<M: StreamMapper> Publisher<M> {
    pub fn new(
        client: Client,
        bus_name: impl Into<String>,
        mapper: M,
        parking: ParkingQueue,
    ) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
            mapper,
            parking,
        }
    }

    /// Checks that the bus exists, which also opens the connection to EventBridge during
    /// the function's init phase instead of on its first batch.
    pub async fn connect(&self) -> Result<(), aws_sdk_eventbridge::Error> {
        self.client
            .describe_event_bus()
            .name(&self.bus_name)
            .send()
            .await?;
        Ok(())
    }

    /// Handles one batch of stream records (the Lambda handler).
    pub async fn handle(&self, batch: impl Into<StreamBatch>) -> DynamoDbEventResponse {
        let batch = batch.into();
        let mut tally = Tally::default();
        let response = self.publish_batch(&batch, &mut tally).await;
        // Metrics are per service: `shop.catalog` is the catalog's.
        let source = self.mapper.source();
        Metrics::new(source.strip_prefix("shop.").unwrap_or(source))
            .count(
                metric_names::EVENTS_PUBLISHED.name,
                u32::try_from(tally.published).unwrap_or(u32::MAX),
            )
            .count(
                metric_names::PUBLISH_FAILURES.name,
                u32::from(!response.batch_item_failures.is_empty()),
            )
            .emit();
        response
    }

    async fn publish_batch(&self, batch: &StreamBatch, tally: &mut Tally) -> DynamoDbEventResponse {
        let mut pending: Vec<Pending<'_>> = Vec::new();
        for record in &batch.records {
            match self.prepare(record) {
                Ok(Some(ready)) => pending.push(ready),
                Ok(None) => {}
                Err(unpublished) => {
                    // What came before goes out first: a failure after this point is retried
                    // from a later record, so this one is never parked twice.
                    if let Some(retry) = self.publish(&mut pending, tally).await {
                        return retry;
                    }
                    if let Some(retry) = self.park(record, &unpublished).await {
                        return retry;
                    }
                }
            }
        }
        self.publish(&mut pending, tally).await.unwrap_or_default()
    }

    /// The event of a record and its `PutEvents` entry.
    fn prepare<'a>(&self, record: &'a Value) -> Result<Option<Pending<'a>>, Unpublished> {
        let Some(envelope) = self.mapper.map(&parking::read(record)?)? else {
            return Ok(None);
        };
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(self.mapper.source())
            .detail_type(&envelope.event_type)
            .detail(serde_json::to_string(&envelope)?)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
                envelope.occurred_at.unix_timestamp(),
            ))
            .build();
        Ok(Some(Pending {
            record,
            envelope,
            entry,
        }))
    }

    /// Parks a record that cannot be published; the response that retries it when it cannot
    /// be parked either.
    async fn park(
        &self,
        record: &Value,
        unpublished: &Unpublished,
    ) -> Option<DynamoDbEventResponse> {
        let reason = crate::error_chain(unpublished);
        match self.parking.park(record, &reason).await {
            Ok(()) => None,
            Err(error) => {
                tracing::error!(error = %crate::error_chain(&error), %reason, "an unpublishable record could not be parked; Lambda will retry it");
                Some(parking::retry_from(record))
            }
        }
    }

    /// Publishes and empties `pending`; on a failure retrying may fix, the response that
    /// makes Lambda redeliver from the first record not published.
    async fn publish(
        &self,
        pending: &mut Vec<Pending<'_>>,
        tally: &mut Tally,
    ) -> Option<DynamoDbEventResponse> {
        let ready = std::mem::take(pending);
        for chunk in ready.chunks(MAX_ENTRIES_PER_CALL) {
            let outcome = self.put_with_retries(chunk).await;
            let unsent = outcome
                .unsent
                .as_ref()
                .map_or(0, |(unsent, _)| unsent.len());
            tally.published += chunk.len() - outcome.refused.len() - unsent;
            let mut failures = outcome.refused;
            if let Some((unsent, error)) = outcome.unsent
                && let Some(&first) = unsent.iter().min()
            {
                failures.push((first, error));
            }
            failures.sort_by_key(|(index, _)| *index);
            for (index, failure) in failures {
                let record = chunk[index].record;
                if failure.verdict() == Verdict::Retry {
                    tracing::error!(error = %crate::error_chain(&failure), "publishing failed; the batch will be redelivered from here");
                    return Some(parking::retry_from(record));
                }
                if let Some(retry) = self.park(record, &failure).await {
                    return Some(retry);
                }
            }
        }
        None
    }

    /// Publishes up to ten events, retrying only the entries EventBridge refused for a
    /// passing reason.
    async fn put_with_retries(&self, chunk: &[Pending<'_>]) -> ChunkOutcome {
        let mut outcome = ChunkOutcome::default();
        let mut remaining: Vec<usize> = (0..chunk.len()).collect();
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let entries = remaining.iter().map(|&i| chunk[i].entry.clone()).collect();
            let output = match self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(output) => output,
                Err(error) => {
                    outcome.unsent = Some((remaining, Unpublished::Call(Box::new(error.into()))));
                    return outcome;
                }
            };
            let mut again = Vec::new();
            for (position, &index) in remaining.iter().enumerate() {
                // An answer without a result for the entry is no proof it was taken.
                let Some(result) = output.entries().get(position) else {
                    again.push(index);
                    continue;
                };
                let Some(code) = result.error_code() else {
                    let envelope = &chunk[index].envelope;
                    tracing::info!(
                        event_type = %envelope.event_type,
                        event_id = %envelope.event_id,
                        sequence = envelope.sequence,
                        correlation_id = %envelope.correlation_id,
                        "event published"
                    );
                    continue;
                };
                let refusal = Unpublished::Refused {
                    code: code.to_owned(),
                    message: result.error_message().unwrap_or_default().to_owned(),
                };
                if refusal.verdict() == Verdict::Park || attempt == MAX_ATTEMPTS {
                    outcome.refused.push((index, refusal));
                } else {
                    again.push(index);
                }
            }
            if again.is_empty() {
                break;
            }
            tracing::warn!(
                refused = again.len(),
                attempt,
                "EventBridge refused entries; retrying"
            );
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            remaining = again;
        }
        outcome
    }
}

/// The whole `main` of a publisher function: JSON logs, `EVENT_BUS_NAME` and the parking
/// queue from the environment, the EventBridge client built and its connection opened during
/// init, then the Lambda runtime loop.
pub async fn run<M: StreamMapper>(
    service: &'static str,
    mapper: M,
) -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(service);
    let bus_name = shop_aws::required_env("EVENT_BUS_NAME")?;
    let aws = shop_aws::load().await;
    let parking = ParkingQueue::from_env(aws_sdk_sqs::Client::new(&aws), service)?;
    let publisher = Publisher::new(Client::new(&aws), bus_name, mapper, parking);
    publisher.connect().await?;
    let publisher = &publisher;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<StreamBatch>| async move {
            Ok::<_, lambda_runtime::Error>(publisher.handle(event.payload).await)
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_eventbridge::types::error::InternalException;

    use super::*;

    fn refused(code: &str) -> Unpublished {
        Unpublished::Refused {
            code: code.to_owned(),
            message: "no".to_owned(),
        }
    }

    #[test]
    fn a_record_that_cannot_be_published_as_it_is_is_parked() {
        let unreadable = parking::read(&serde_json::json!({"eventName": 7})).unwrap_err();
        let malformed = serde_json::from_str::<Value>("{").unwrap_err();
        for failure in [
            Unpublished::Unreadable(unreadable),
            Unpublished::Unmappable(MapError("product image: missing field `version`".into())),
            Unpublished::Serialise(malformed),
            refused("MalformedDetail"),
            refused("InvalidArgument"),
        ] {
            assert_eq!(failure.verdict(), Verdict::Park, "{failure}");
        }
    }

    #[test]
    fn eventbridge_unavailable_or_throttling_is_retried_never_parked() {
        let unavailable =
            Unpublished::Call(Box::new(aws_sdk_eventbridge::Error::InternalException(
                InternalException::builder().message("try later").build(),
            )));
        for failure in [
            unavailable,
            refused("ThrottlingException"),
            refused("InternalFailure"),
        ] {
            assert_eq!(failure.verdict(), Verdict::Retry, "{failure}");
        }
    }
}
