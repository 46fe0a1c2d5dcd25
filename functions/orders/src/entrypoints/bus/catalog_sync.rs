//! The catalog's product events → orders' copy of the products (run by
//! `orders-catalog-sync`, subscribed to them by a rule on the bus). Orders agrees with the
//! catalog on the event contract only, never on its code or table.

use serde::Deserialize;
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

/// What orders reads of a product event (`events/schemas/product.json`).
#[derive(Debug, Deserialize)]
pub struct ProductDetails {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub price_cents: i64,
    pub currency: String,
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
