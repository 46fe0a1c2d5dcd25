//! The event store's stream → the read model (run by `orders-projector`).
//!
//! Each view records the sequence it has applied (`version`). A record is applied by folding
//! the order's events up to its sequence from the event store and writing the view only if it
//! is newer than the stored one, so duplicates and replays are no-ops, a late record cannot
//! move a view backwards, and a gap (a record arriving before its predecessor) is caught up
//! from the store and logged.

use aws_lambda_events::{
    dynamodb::{Event, EventRecord},
    streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse},
};

use crate::{
    adapters::{EventStore, OrderView, ReadModel, StoreError, StoredEvent, read_model::Applied},
    domain::fold,
};

/// What projecting one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    Applied,
    /// The view was already at this sequence or later.
    Duplicate,
    /// The view was behind by more than one event; it was brought up to date from the store.
    CaughtUp {
        from: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Projector {
    pub store: EventStore,
    pub views: ReadModel,
}

impl Projector {
    /// Handles one batch; the first record that fails is reported, so Lambda retries from it.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        for record in &event.records {
            if let Err(error) = self.project_record(record).await {
                tracing::error!(%error, event_id = %record.event_id, "projection failed; the batch will be retried from here");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure
                    .item_identifier
                    .clone_from(&record.change.sequence_number);
                response.batch_item_failures.push(failure);
                break;
            }
        }
        response
    }

    async fn project_record(&self, record: &EventRecord) -> Result<(), StoreError> {
        if record.event_name != "INSERT" {
            return Ok(());
        }
        let stored: StoredEvent = serde_dynamo::from_item(record.change.new_image.clone())?;
        self.project(&stored).await.map(|_| ())
    }

    pub async fn project(&self, event: &StoredEvent) -> Result<Projection, StoreError> {
        let current = self
            .views
            .get(&event.order_id)
            .await?
            .map_or(0, |view| view.version);
        if current >= event.sequence {
            tracing::info!(order_id = %event.order_id, sequence = event.sequence, applied = current, "duplicate event; view unchanged");
            return Ok(Projection::Duplicate);
        }
        let history = self
            .store
            .load(&event.order_id, Some(event.sequence))
            .await?;
        let recorded = history
            .iter()
            .map(StoredEvent::recorded)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(order) = fold(&event.order_id, &recorded) else {
            return Err(StoreError::Corrupt(format!(
                "order {} has no OrderPlaced",
                event.order_id
            )));
        };
        let view = OrderView::of(&order);
        if self.views.put(&view).await? == Applied::AlreadyCurrent {
            return Ok(Projection::Duplicate);
        }
        if current == 0 {
            // The order's first view: count it in its customer's totals (once, guarded there).
            self.views.count_in_totals(&view).await?;
        }
        tracing::info!(
            order_id = %event.order_id,
            sequence = event.sequence,
            event_type = %event.event_type,
            correlation_id = %event.correlation_id,
            "view updated"
        );
        if current + 1 < event.sequence {
            tracing::warn!(order_id = %event.order_id, applied = current, sequence = event.sequence, "gap in the event stream; caught up from the event store");
            return Ok(Projection::CaughtUp { from: current });
        }
        Ok(Projection::Applied)
    }
}
