//! The payments table's stream → PaymentRefunded on the bus (run by `payments-publisher`
//! through the shared publisher).

use aws_lambda_events::dynamodb::EventRecord;
use serde_json::json;
use shop_events::{Envelope, StreamMapper, publisher::MapError};
use time::OffsetDateTime;

use crate::domain::Payment;

pub const SOURCE: &str = "shop.payments";

#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentEvents;

impl StreamMapper for PaymentEvents {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError> {
        if record.event_name == "REMOVE" {
            return Ok(None);
        }
        // Only refunds are announced; other changes (attempts, authorizations) are skipped
        // without reading the whole payment.
        let image: serde_json::Value = serde_dynamo::from_item(record.change.new_image.clone())
            .map_err(|error| MapError(format!("payment image: {error}")))?;
        if image["status"] != "REFUNDED" {
            return Ok(None);
        }
        let payment: Payment = serde_json::from_value(image)
            .map_err(|error| MapError(format!("payment image: {error}")))?;
        let occurred_at = OffsetDateTime::from_unix_timestamp(
            record.change.approximate_creation_date_time.timestamp(),
        )
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
        Ok(Some(Envelope {
            // The only event payments announces per order.
            event_id: Envelope::event_id_for(SOURCE, &payment.order_id, 1),
            event_type: "PaymentRefunded".to_owned(),
            version: 1,
            occurred_at,
            correlation_id: payment.order_id.clone(),
            causation_id: None,
            sequence: 1,
            data: json!({
                "order_id": payment.order_id,
                "amount_cents": payment.refunded_cents,
                "currency": payment.currency,
            }),
        }))
    }
}
