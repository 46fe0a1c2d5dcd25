use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    Active,
    /// Soft-deleted: still readable by id (orders refer to it), no longer listed or sold.
    Discontinued,
}

/// What an admin may set on a product; validated (see [`crate::domain::ProductInput`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDetails {
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: Uuid,
    /// Unique across the catalog and never changed: orders and stock refer to it.
    pub sku: String,
    pub details: ProductDetails,
    pub status: ProductStatus,
    /// Starts at 1 and grows by one with every change; the sequence of its events.
    pub version: u64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    #[error("a discontinued product cannot be changed")]
    Discontinued,
}

impl Product {
    pub fn create(id: Uuid, sku: String, details: ProductDetails, now: OffsetDateTime) -> Self {
        Self {
            id,
            sku,
            details,
            status: ProductStatus::Active,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The product with new details, as its next version.
    pub fn revise(
        &self,
        details: ProductDetails,
        now: OffsetDateTime,
    ) -> Result<Self, RevisionError> {
        if self.status == ProductStatus::Discontinued {
            return Err(RevisionError::Discontinued);
        }
        Ok(Self {
            details,
            ..self.next_version(now)
        })
    }

    /// The product discontinued, as its next version; `None` when it already is, so
    /// repeating a discontinue changes nothing and announces nothing.
    pub fn discontinue(&self, now: OffsetDateTime) -> Option<Self> {
        (self.status == ProductStatus::Active).then(|| Self {
            status: ProductStatus::Discontinued,
            ..self.next_version(now)
        })
    }

    fn next_version(&self, now: OffsetDateTime) -> Self {
        Self {
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn details(price_cents: i64) -> ProductDetails {
        ProductDetails {
            name: "Kettle".into(),
            description: String::new(),
            price_cents,
            currency: "EUR".into(),
        }
    }

    fn kettle() -> Product {
        Product::create(
            Uuid::nil(),
            "KET-1".into(),
            details(2999),
            datetime!(2026-01-01 0:00 UTC),
        )
    }

    #[test]
    fn a_new_product_is_active_at_version_one() {
        let product = kettle();
        assert_eq!(product.status, ProductStatus::Active);
        assert_eq!(product.version, 1);
        assert_eq!(product.created_at, product.updated_at);
    }

    #[test]
    fn a_revision_is_the_next_version_and_keeps_the_sku_and_creation_time() {
        let later = datetime!(2026-02-01 0:00 UTC);
        let revised = kettle().revise(details(1999), later).unwrap();
        assert_eq!(revised.version, 2);
        assert_eq!(revised.details.price_cents, 1999);
        assert_eq!(revised.sku, "KET-1");
        assert_eq!(revised.updated_at, later);
        assert_eq!(revised.created_at, kettle().created_at);
    }

    #[test]
    fn discontinuing_is_a_new_version_once_and_then_a_no_op() {
        let now = datetime!(2026-02-01 0:00 UTC);
        let gone = kettle().discontinue(now).unwrap();
        assert_eq!(gone.status, ProductStatus::Discontinued);
        assert_eq!(gone.version, 2);
        assert!(gone.discontinue(now).is_none());
    }

    #[test]
    fn a_discontinued_product_cannot_be_revised() {
        let now = datetime!(2026-02-01 0:00 UTC);
        let gone = kettle().discontinue(now).unwrap();
        assert_eq!(
            gone.revise(details(1), now),
            Err(RevisionError::Discontinued)
        );
    }
}
