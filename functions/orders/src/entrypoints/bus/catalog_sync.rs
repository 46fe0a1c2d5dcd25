//! The catalog's product events → orders' copy of the products (run by
//! `orders-catalog-sync`, subscribed to them by a rule on the bus). Orders agrees with the
//! catalog on the event contract only, never on its code or table.

use serde_json::Value;

use crate::{
    adapters::{ProductCopies, StoreError},
    domain::Product,
};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("not a catalog product event: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct CatalogSync {
    pub products: ProductCopies,
}

impl CatalogSync {
    /// Applies one EventBridge event; events of other types are ignored. Returns whether the
    /// copy changed (a redelivered or older event changes nothing).
    pub async fn handle(&self, event: &Value) -> Result<bool, SyncError> {
        let detail = &event["detail"];
        let event_type = detail["type"].as_str().unwrap_or_default();
        let sequence = detail["sequence"]
            .as_u64()
            .ok_or_else(|| SyncError::Unreadable("no sequence".to_owned()))?;
        let data = &detail["data"];
        let text = |name: &str| {
            data[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| SyncError::Unreadable(format!("{event_type} without {name}")))
        };
        let product = match event_type {
            "ProductCreated" | "ProductUpdated" => Product {
                id: text("product_id")?,
                sku: text("sku")?,
                name: text("name")?,
                price_cents: data["price_cents"]
                    .as_i64()
                    .ok_or_else(|| SyncError::Unreadable("no price_cents".to_owned()))?,
                currency: text("currency")?,
                active: true,
            },
            "ProductDiscontinued" => {
                let id = text("product_id")?;
                let Some(known) = self.products.get(&id).await? else {
                    // Not known yet (its creation may still be on its way): record it as
                    // discontinued at this version, so the older creation cannot revive it.
                    return Ok(self
                        .products
                        .apply(
                            &Product {
                                id,
                                sku: text("sku")?,
                                name: String::new(),
                                price_cents: 0,
                                currency: String::new(),
                                active: false,
                            },
                            sequence,
                        )
                        .await?);
                };
                Product {
                    active: false,
                    ..known
                }
            }
            other => {
                tracing::info!(event_type = other, "not a product event; ignored");
                return Ok(false);
            }
        };
        let changed = self.products.apply(&product, sequence).await?;
        tracing::info!(
            event_type,
            product_id = %product.id,
            sequence,
            correlation_id = %detail["correlation_id"].as_str().unwrap_or_default(),
            changed,
            "product copy updated"
        );
        Ok(changed)
    }
}
