//! The event store's stream → integration events on the bus (run by `orders-publisher`
//! through the shared publisher). Every stored event is published as is, with the order's
//! id as correlation id and its sequence as the event's sequence.

use aws_lambda_events::dynamodb::EventRecord;
use shop_events::{Envelope, StreamMapper, publisher::MapError};

use crate::adapters::StoredEvent;

pub const SOURCE: &str = "shop.orders";
/// Version of the orders events' schemas in `events/schemas/`, but for OrderPlaced's.
pub const SCHEMA_VERSION: u32 = 1;
/// OrderPlaced's schema version: 2 since it carries the card token sealed
/// (`card_token_ciphertext`) where version 1 carried the token itself.
pub const ORDER_PLACED_SCHEMA_VERSION: u32 = 2;

/// The schema version of an orders event type.
pub fn schema_version(event_type: &str) -> u32 {
    if event_type == "OrderPlaced" {
        ORDER_PLACED_SCHEMA_VERSION
    } else {
        SCHEMA_VERSION
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct OrderEvents;

impl StreamMapper for OrderEvents {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError> {
        if record.event_name != "INSERT" {
            return Ok(None);
        }
        let event: StoredEvent = serde_dynamo::from_item(record.change.new_image.clone())
            .map_err(|error| MapError(format!("stored event: {error}")))?;
        Ok(Some(
            envelope(&event).map_err(|error| MapError(error.to_string()))?,
        ))
    }
}

/// The integration event of a stored event: its data plus the order's and customer's ids.
pub fn envelope(event: &StoredEvent) -> Result<Envelope, serde_json::Error> {
    let mut data: serde_json::Value = serde_json::from_str(&event.data)?;
    if let Some(fields) = data.as_object_mut() {
        fields.insert("order_id".to_owned(), event.order_id.clone().into());
        fields.insert("customer_id".to_owned(), event.customer_id.clone().into());
    }
    Ok(Envelope {
        event_id: Envelope::event_id_for(SOURCE, &event.order_id, event.sequence),
        event_type: event.event_type.clone(),
        version: schema_version(&event.event_type),
        occurred_at: event.occurred_at,
        correlation_id: event.correlation_id.clone(),
        causation_id: Some(event.causation_id.clone()),
        sequence: event.sequence,
        data,
    })
}
