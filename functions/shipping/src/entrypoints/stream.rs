//! The shipments table's stream → ShipmentScheduled / ShipmentCancelled on the bus (run by
//! `shipping-publisher` through the shared publisher).

use aws_lambda_events::dynamodb::EventRecord;
use serde_json::json;
use shop_events::{Envelope, StreamMapper, publisher::MapError};

use crate::domain::{Shipment, ShipmentStatus};

pub const SOURCE: &str = "shop.shipping";

#[derive(Debug, Clone, Copy, Default)]
pub struct ShipmentEvents;

impl StreamMapper for ShipmentEvents {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError> {
        if record.event_name == "REMOVE" {
            return Ok(None);
        }
        let shipment: Shipment = serde_dynamo::from_item(record.change.new_image.clone())
            .map_err(|error| MapError(format!("shipment image: {error}")))?;
        let event_type = match shipment.status {
            ShipmentStatus::Scheduled => "ShipmentScheduled",
            ShipmentStatus::Cancelled => "ShipmentCancelled",
        };
        Ok(Some(Envelope {
            event_id: Envelope::event_id_for(SOURCE, &shipment.order_id, shipment.version),
            event_type: event_type.to_owned(),
            version: 1,
            occurred_at: shipment.updated_at,
            correlation_id: shipment.order_id.clone(),
            causation_id: Some(shipment.causation_id.clone()),
            sequence: shipment.version,
            data: json!({
                "order_id": shipment.order_id,
                "customer_id": shipment.customer_id,
                "shipment_id": shipment.shipment_id,
            }),
        }))
    }
}
