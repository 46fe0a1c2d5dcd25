//! CustomerRegistered, from the customers table's stream (run by `auth-publisher` through the
//! shared publisher). A customer item is written once, so each INSERT is one registration.

use aws_lambda_events::dynamodb::EventRecord;
use serde_json::json;
use shop_events::{Envelope, StreamMapper, publisher::MapError};

use crate::adapters::CustomerRecord;

pub const SOURCE: &str = "shop.auth";
/// Version of the auth events' schemas in `events/schemas/`.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Default)]
pub struct CustomerEvents;

impl StreamMapper for CustomerEvents {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError> {
        if record.event_name != "INSERT" {
            return Ok(None);
        }
        let customer: CustomerRecord = serde_dynamo::from_item(record.change.new_image.clone())
            .map_err(|error| MapError(format!("customer image: {error}")))?;
        Ok(Some(Envelope {
            event_id: Envelope::event_id_for(SOURCE, &customer.user_id, 1),
            event_type: "CustomerRegistered".to_owned(),
            version: SCHEMA_VERSION,
            occurred_at: customer.registered_at,
            correlation_id: customer.correlation_id,
            causation_id: None,
            sequence: 1,
            data: json!({
                "customer_id": customer.user_id,
                "email": customer.email,
                "name": customer.name,
            }),
        }))
    }
}
