//! Which integration event each change of the products table announces (the
//! `catalog-publisher` function runs this through the shared stream publisher).
//!
//! Every write stores a new version of a product, so every INSERT or MODIFY record is
//! exactly one event: the version is the event's sequence and the record carries the
//! correlation id of the request that wrote it.

use aws_lambda_events::dynamodb::EventRecord;
use serde_json::json;
use shop_events::{Envelope, StreamMapper, publisher::MapError};

use crate::{adapters::ProductRecord, domain::ProductStatus};

pub const SOURCE: &str = "shop.catalog";
/// Version of the catalog events' schemas in `events/schemas/`.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Default)]
pub struct ProductEvents;

impl StreamMapper for ProductEvents {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn map(&self, record: &EventRecord) -> Result<Option<Envelope>, MapError> {
        let created = match record.event_name.as_str() {
            "INSERT" => true,
            "MODIFY" => false,
            // Products are never deleted (discontinuing is a MODIFY), so a removal is an
            // operator's clean-up and announces nothing.
            _ => return Ok(None),
        };
        let product: ProductRecord = serde_dynamo::from_item(record.change.new_image.clone())
            .map_err(|error| MapError(format!("product image: {error}")))?;

        let (event_type, data) = match (created, product.status) {
            (true, _) => ("ProductCreated", details(&product)),
            (false, ProductStatus::Active) => ("ProductUpdated", details(&product)),
            (false, ProductStatus::Discontinued) => (
                "ProductDiscontinued",
                json!({ "product_id": product.id, "sku": product.sku }),
            ),
        };
        Ok(Some(Envelope {
            event_id: Envelope::event_id_for(SOURCE, &product.id.to_string(), product.version),
            event_type: event_type.to_owned(),
            version: SCHEMA_VERSION,
            occurred_at: product.updated_at,
            correlation_id: product.correlation_id,
            causation_id: None,
            sequence: product.version,
            data,
        }))
    }
}

fn details(product: &ProductRecord) -> serde_json::Value {
    json!({
        "product_id": product.id,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price_cents": product.price_cents,
        "currency": product.currency,
    })
}
