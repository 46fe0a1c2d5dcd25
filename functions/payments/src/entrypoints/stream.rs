//! The payments table's stream → PaymentRefunded on the bus (run by `payments-publisher`
//! through the shared publisher).

use aws_lambda_events::dynamodb::EventRecord;
use serde::Deserialize;
use serde_json::json;
use shop_events::{Envelope, StreamMapper, publisher::MapError};
use time::OffsetDateTime;

use crate::{adapters::simulated_provider::LEDGER_KEY_PREFIX, domain::Payment};

/// The key of a payments table item.
#[derive(Debug, Deserialize)]
struct ItemKey {
    order_id: String,
}

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
        let key: ItemKey = serde_dynamo::from_item(record.change.keys.clone())
            .map_err(|error| MapError(format!("payment key: {error}")))?;
        // The simulated provider's books share the table; they announce nothing.
        if key.order_id.starts_with(LEDGER_KEY_PREFIX) {
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn record(image: &Value) -> EventRecord {
        serde_json::from_value(json!({
            "eventID": "1",
            "eventName": "MODIFY",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_764_237_600.0,
                "Keys": {"order_id": image["order_id"]},
                "NewImage": image,
                "SequenceNumber": "100",
                "SizeBytes": 100,
                "StreamViewType": "NEW_IMAGE"
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_refunded_payment_announces_its_refund() {
        let envelope = PaymentEvents
            .map(&record(&json!({
                "order_id": {"S": "o-1"}, "status": {"S": "REFUNDED"}, "amount_cents": {"N": "700"},
                "currency": {"S": "EUR"}, "attempts": {"N": "1"}, "refunded_cents": {"N": "700"}
            })))
            .unwrap()
            .unwrap();
        assert_eq!(envelope.event_type, "PaymentRefunded");
        assert_eq!(envelope.data["amount_cents"], 700);
    }

    #[test]
    fn the_simulated_providers_books_announce_nothing() {
        let refunded_in_the_books = record(&json!({
            "order_id": {"S": "simulated-provider#o-1"}, "attempts": {"N": "1"},
            "authorization_id": {"S": "auth_1"}, "authorized_cents": {"N": "700"},
            "voided_cents": {"N": "0"}, "refunded_cents": {"N": "700"}, "currency": {"S": "EUR"},
            "status": {"S": "REFUNDED"}
        }));
        assert!(PaymentEvents.map(&refunded_in_the_books).unwrap().is_none());
    }
}
