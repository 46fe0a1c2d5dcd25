//! The catalog's product events → orders' copy of the products (run by
//! `orders-catalog-sync`, subscribed to them by a rule on the bus). Orders agrees with the
//! catalog on the event contract only, never on its code or table.

use serde::{Deserialize, Deserializer, de::Error as _};
use shop_events::Delivery;

use crate::{
    adapters::{ProductCopies, StoreError},
    domain::Product,
};

shop_events::inbox! {
    /// The catalog's product events.
    pub enum CatalogProducts {
        ProductCreated from "shop.catalog" (ProductDetails),
        ProductUpdated from "shop.catalog" (ProductDetails),
        ProductDiscontinued from "shop.catalog" { product_id: String, sku: String },
    }
}

/// What orders reads of a product event (`events/schemas/product.json`). Orders prices its
/// orders from this copy, so what it copies is held to the catalog's own bounds: an event out
/// of them (a producer's bug, or a forgery) is rejected and parked, never copied.
#[derive(Debug, Deserialize)]
pub struct ProductDetails {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    #[serde(deserialize_with = "catalog_price")]
    pub price_cents: i64,
    #[serde(deserialize_with = "currency_code")]
    pub currency: String,
}

/// The catalog's price bounds (`functions/catalog/src/domain/validation.rs`).
const MAX_PRICE_CENTS: i64 = 100_000_000;

fn catalog_price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let cents = i64::deserialize(deserializer)?;
    if (1..=MAX_PRICE_CENTS).contains(&cents) {
        Ok(cents)
    } else {
        Err(D::Error::custom(format!(
            "price_cents {cents} is outside the catalog's 1..={MAX_PRICE_CENTS}"
        )))
    }
}

fn currency_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let code = String::deserialize(deserializer)?;
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(D::Error::custom(format!(
            "{code:?} is not an ISO 4217 code"
        )))
    }
}

impl From<ProductDetails> for Product {
    fn from(details: ProductDetails) -> Self {
        Self {
            id: details.product_id,
            sku: details.sku,
            name: details.name,
            price_cents: details.price_cents,
            currency: details.currency,
            active: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CatalogSync {
    pub products: ProductCopies,
}

impl CatalogSync {
    /// Applies one product event at its sequence. A redelivered or older event changes
    /// nothing.
    pub async fn handle(&self, delivery: Delivery<CatalogProducts>) -> Result<(), StoreError> {
        let sequence = delivery.sequence;
        let product = match delivery.event {
            CatalogProducts::ProductCreated(details) | CatalogProducts::ProductUpdated(details) => {
                details.into()
            }
            CatalogProducts::ProductDiscontinued { product_id, sku } => {
                match self.products.get(&product_id).await? {
                    Some(known) => Product {
                        active: false,
                        ..known
                    },
                    // Not known yet (its creation may still be on its way): record it as
                    // discontinued at this version, so the older creation cannot revive it.
                    None => Product {
                        id: product_id,
                        sku,
                        name: String::new(),
                        price_cents: 0,
                        currency: String::new(),
                        active: false,
                    },
                }
            }
        };
        let changed = self.products.apply(&product, sequence).await?;
        tracing::info!(product_id = %product.id, changed, "product copy updated");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shop_events::{Envelope, Rejected};

    use super::*;

    fn created(price_cents: &Value, currency: &str) -> Value {
        let envelope = Envelope {
            event_id: Envelope::event_id_for("shop.catalog", "p-1", 1),
            event_type: "ProductCreated".to_owned(),
            version: 1,
            occurred_at: time::OffsetDateTime::UNIX_EPOCH,
            correlation_id: "p-1".to_owned(),
            causation_id: None,
            sequence: 1,
            data: json!({"product_id": "p-1", "sku": "LAMP-1", "name": "Lamp",
                         "price_cents": price_cents, "currency": currency}),
        };
        json!({"detail-type": "ProductCreated", "source": "shop.catalog", "detail": envelope})
    }

    #[test]
    fn a_product_within_the_catalogs_bounds_is_copied() {
        assert!(Delivery::<CatalogProducts>::read(created(&json!(4500), "EUR")).is_ok());
    }

    #[test]
    fn a_price_or_currency_out_of_the_catalogs_bounds_is_rejected_not_copied() {
        for (price, currency) in [
            (json!(-5), "EUR"),
            (json!(0), "EUR"),
            (json!(MAX_PRICE_CENTS + 1), "EUR"),
            (json!(4500), "euro"),
        ] {
            let read = Delivery::<CatalogProducts>::read(created(&price, currency));
            assert!(
                matches!(read, Err(Rejected::Malformed { .. })),
                "{price} {currency}: {read:?}"
            );
        }
    }
}
