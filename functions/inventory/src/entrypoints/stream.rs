//! The reservations table's stream → StockReleased on the bus (run by `inventory-publisher`
//! through the shared publisher): announced whenever an order's reservation becomes RELEASED,
//! by a saga compensation or a cancellation.

use aws_lambda_events::dynamodb::EventRecord;
use serde_json::json;
use shop_events::{Envelope, StreamMapper, publisher::MapError};
use time::OffsetDateTime;

use crate::{adapters::ReservationRecord, domain::ReservationStatus};

pub const SOURCE: &str = "shop.inventory";

#[derive(Debug, Clone, Copy, Default)]
pub struct ReservationEvents;

impl StreamMapper for ReservationEvents {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError> {
        if record.event_name == "REMOVE" {
            return Ok(None);
        }
        let reservation =
            serde_dynamo::from_item::<_, ReservationRecord>(record.change.new_image.clone())
                .map_err(|error| MapError(format!("reservation image: {error}")))?
                .into_reservation()
                .map_err(|error| MapError(error.to_string()))?;
        if reservation.status != ReservationStatus::Released {
            return Ok(None);
        }
        let order_id = reservation.order_id;
        let occurred_at = OffsetDateTime::from_unix_timestamp(
            record.change.approximate_creation_date_time.timestamp(),
        )
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
        Ok(Some(Envelope {
            // The reservation's second (and last) version: reserved, then released.
            event_id: Envelope::event_id_for(SOURCE, &order_id, 2),
            event_type: "StockReleased".to_owned(),
            version: 1,
            occurred_at,
            correlation_id: order_id.clone(),
            causation_id: None,
            sequence: 2,
            data: json!({ "order_id": order_id, "lines": reservation.lines }),
        }))
    }
}
