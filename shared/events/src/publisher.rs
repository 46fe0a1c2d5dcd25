//! DynamoDB stream → EventBridge.
//!
//! Lambda delivers a batch of stream records in order. Each record is mapped to at most one
//! integration event by the owning service's [`StreamMapper`]; events go out in `PutEvents`
//! calls of up to ten, and entries EventBridge refuses are retried with backoff. When an event
//! still cannot be published (or a record cannot be read), the handler stops and reports that
//! record as the batch's first failure: Lambda keeps everything before it as done and redelivers
//! from it, so nothing is skipped and per-aggregate order holds. Redelivered events carry the
//! same `event_id`, so consumers drop duplicates.

use std::time::Duration;

use aws_lambda_events::{
    dynamodb::{Event, EventRecord},
    streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse},
};
use aws_sdk_eventbridge::{Client, types::PutEventsRequestEntry};
use shop_observability::Metrics;

use crate::Envelope;

/// EventBridge accepts at most ten entries per `PutEvents` call.
const MAX_ENTRIES_PER_CALL: usize = 10;
/// Attempts for entries EventBridge reports as failed (the SDK already retries whole calls
/// on throttling and transport errors).
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The service-specific half of the publisher: which event a change of one of its items
/// announces.
pub trait StreamMapper: Send + Sync {
    /// The EventBridge `source`, e.g. `shop.catalog`.
    fn source(&self) -> &'static str;

    /// The event a stream record announces, or `None` when it announces nothing (a change
    /// that is not a new version, an item that is not an aggregate).
    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError>;
}

/// A stream record the mapper cannot read. Retrying will not fix it, but reporting it keeps
/// it: Lambda retries as configured and then hands it to the on-failure destination.
#[derive(Debug, thiserror::Error)]
#[error("cannot map stream record: {0}")]
pub struct MapError(pub String);

#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("PutEvents failed: {}", aws_sdk_eventbridge::error::DisplayErrorContext(.0))]
    Call(#[from] aws_sdk_eventbridge::Error),
    #[error(
        "EventBridge refused {count} entries after {MAX_ATTEMPTS} attempts, first: {code}: {message}"
    )]
    Refused {
        count: usize,
        code: String,
        message: String,
    },
    #[error("cannot serialise event: {0}")]
    Serialise(#[from] serde_json::Error),
}

#[derive(Debug)]
pub struct Publisher<M> {
    client: Client,
    bus_name: String,
    mapper: M,
}

impl<M: StreamMapper> Publisher<M> {
    pub fn new(client: Client, bus_name: impl Into<String>, mapper: M) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
            mapper,
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
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let records = event.records;
        let mut pending: Vec<(&EventRecord, Envelope)> = Vec::new();
        let mut failed_at: Option<&EventRecord> = None;

        for record in &records {
            match self.mapper.map(record) {
                Ok(Some(envelope)) => pending.push((record, envelope)),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, event_id = %record.event_id, "unreadable stream record");
                    failed_at = Some(record);
                    break;
                }
            }
        }

        let mut published = 0;
        for chunk in pending.chunks(MAX_ENTRIES_PER_CALL) {
            let envelopes: Vec<&Envelope> = chunk.iter().map(|(_, envelope)| envelope).collect();
            match self.put_with_retries(&envelopes).await {
                Ok(()) => published += chunk.len(),
                Err(error) => {
                    tracing::error!(%error, "publishing failed; the batch will be redelivered from here");
                    failed_at = Some(chunk[0].0);
                    break;
                }
            }
        }

        // Metrics are per service: `shop.catalog` is the catalog's.
        let source = self.mapper.source();
        Metrics::new(source.strip_prefix("shop.").unwrap_or(source))
            .count(
                "EventsPublished",
                u32::try_from(published).unwrap_or(u32::MAX),
            )
            .count("PublishFailures", u32::from(failed_at.is_some()))
            .emit();

        let mut response = DynamoDbEventResponse::default();
        if let Some(record) = failed_at {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure
                .item_identifier
                .clone_from(&record.change.sequence_number);
            response.batch_item_failures.push(failure);
        }
        response
    }

    /// Publishes up to ten events, retrying only the entries EventBridge refused.
    async fn put_with_retries(&self, envelopes: &[&Envelope]) -> Result<(), PublishError> {
        let mut remaining: Vec<&Envelope> = envelopes.to_vec();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let entries = remaining
                .iter()
                .map(|envelope| self.entry(envelope))
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(aws_sdk_eventbridge::Error::from)?;

            let mut refused = Vec::new();
            let mut first_refusal = None;
            for (envelope, result) in remaining.iter().zip(output.entries()) {
                if let Some(code) = result.error_code() {
                    first_refusal.get_or_insert_with(|| {
                        (
                            code.to_owned(),
                            result.error_message().unwrap_or_default().to_owned(),
                        )
                    });
                    refused.push(*envelope);
                } else {
                    tracing::info!(
                        event_type = %envelope.event_type,
                        event_id = %envelope.event_id,
                        sequence = envelope.sequence,
                        correlation_id = %envelope.correlation_id,
                        "event published"
                    );
                }
            }
            let Some((code, message)) = first_refusal else {
                return Ok(());
            };
            if attempt == MAX_ATTEMPTS {
                return Err(PublishError::Refused {
                    count: refused.len(),
                    code,
                    message,
                });
            }
            tracing::warn!(refused = refused.len(), %code, attempt, "EventBridge refused entries; retrying");
            remaining = refused;
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
        }
    }

    fn entry(&self, envelope: &Envelope) -> Result<PutEventsRequestEntry, serde_json::Error> {
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(self.mapper.source())
            .detail_type(&envelope.event_type)
            .detail(serde_json::to_string(envelope)?)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
                envelope.occurred_at.unix_timestamp(),
            ))
            .build())
    }
}

/// The whole `main` of a publisher function: JSON logs, `EVENT_BUS_NAME` from the
/// environment, the EventBridge client built and its connection opened during init, then the
/// Lambda runtime loop.
pub async fn run<M: StreamMapper>(
    service: &'static str,
    mapper: M,
) -> Result<(), lambda_runtime::Error> {
    shop_observability::logging::init(service);
    let bus_name = shop_aws::required_env("EVENT_BUS_NAME")?;
    let aws = shop_aws::load().await;
    let publisher = Publisher::new(Client::new(&aws), bus_name, mapper);
    publisher.connect().await?;
    let publisher = &publisher;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Event>| async move {
            Ok::<_, lambda_runtime::Error>(publisher.handle(event.payload).await)
        },
    ))
    .await
}
