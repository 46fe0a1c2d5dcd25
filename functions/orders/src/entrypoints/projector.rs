//! The event store's stream → the read model (run by `orders-projector`).
//!
//! Each view records the sequence it has applied (`version`). A record is applied by folding
//! the order's events up to its sequence from the event store and writing the view only if it
//! is newer than the stored one, so duplicates and replays are no-ops, a late record cannot
//! move a view backwards, and a gap (a record arriving before its predecessor) is caught up
//! from the store and logged. The first view of an order counts it in its customer's totals in
//! the same transaction, so totals too survive any redelivery.
//!
//! A record that cannot be projected however often it is retried (an image that is not a
//! stored event, an order whose stored events do not read or fold) is parked with its image
//! in the projector's DLQ; DynamoDB failing is retried.

use aws_lambda_events::{dynamodb::EventRecord, streams::DynamoDbEventResponse};
use shop_aws::dynamo::StoreError;
use shop_events::{
    ParkingQueue, StreamBatch,
    parking::{self, Classify, Verdict},
};

use crate::{
    adapters::{
        EventStore, OrderView, ReadModel, ReadModelError, StoredEvent, read_model::Applied,
    },
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

impl Classify for ReadModelError {
    fn verdict(&self) -> Verdict {
        match self {
            Self::Conflict | Self::Store(StoreError::Dynamo(_)) => Verdict::Retry,
            Self::Store(
                StoreError::Unreadable(_) | StoreError::UnreadableJson(_) | StoreError::Corrupt(_),
            ) => Verdict::Park,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Projector {
    pub store: EventStore,
    pub views: ReadModel,
    pub parking: ParkingQueue,
}

impl Projector {
    /// Handles one batch in order: a record that cannot be projected is parked, the first
    /// that fails for a passing reason is reported, so Lambda retries from it.
    pub async fn handle(&self, batch: impl Into<StreamBatch>) -> DynamoDbEventResponse {
        parking::handle_each(&batch.into(), &self.parking, |record| {
            self.project_record(record)
        })
        .await
    }

    async fn project_record(&self, record: EventRecord) -> Result<(), ReadModelError> {
        if record.event_name != "INSERT" {
            return Ok(());
        }
        let stored: StoredEvent =
            serde_dynamo::from_item(record.change.new_image).map_err(StoreError::from)?;
        self.project(&stored).await.map(|_| ())
    }

    pub async fn project(&self, event: &StoredEvent) -> Result<Projection, ReadModelError> {
        let current = self
            .views
            .get(&event.order_id)
            .await?
            .map(|view| view.version);
        if let Some(current) = current
            && current >= event.sequence
        {
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
            ))
            .into());
        };
        let view = OrderView::of(&order);
        let applied = match current {
            None => self.views.put_first(&view).await?,
            Some(_) => self.views.put(&view).await?,
        };
        if applied == Applied::AlreadyCurrent {
            return Ok(Projection::Duplicate);
        }
        tracing::info!(
            order_id = %event.order_id,
            sequence = event.sequence,
            event_type = %event.event_type,
            correlation_id = %event.correlation_id,
            "view updated"
        );
        let current = current.unwrap_or(0);
        if current + 1 < event.sequence {
            tracing::warn!(order_id = %event.order_id, applied = current, sequence = event.sequence, "gap in the event stream; caught up from the event store");
            return Ok(Projection::CaughtUp { from: current });
        }
        Ok(Projection::Applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_the_store_cannot_explain_is_parked_and_an_unavailable_store_retried() {
        let unreadable: serde_json::Error = serde_json::from_str::<u8>("x").unwrap_err();
        for parked in [
            ReadModelError::Store(StoreError::UnreadableJson(unreadable)),
            ReadModelError::Store(StoreError::Corrupt("order o-1 has no OrderPlaced".into())),
        ] {
            assert_eq!(parked.verdict(), Verdict::Park, "{parked}");
        }
        let timed_out = aws_sdk_dynamodb::error::SdkError::<
            aws_sdk_dynamodb::operation::get_item::GetItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >::timeout_error(std::io::Error::other("no answer"));
        for retried in [
            ReadModelError::Store(StoreError::from(timed_out)),
            ReadModelError::Conflict,
        ] {
            assert_eq!(retried.verdict(), Verdict::Retry, "{retried}");
        }
    }
}
