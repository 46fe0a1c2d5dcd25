//! The catalog's two DynamoDB tables.
//!
//! - products: one item per product, keyed by `id`; its stream feeds the event publisher.
//! - skus: one claim per SKU, keyed by `sku`. Creating a product writes the product and
//!   its claim in one transaction, each conditional on not existing, so two concurrent
//!   creates with one SKU cannot both succeed (no read-then-write race).

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    error::SdkError,
    types::{AttributeValue, Put, TransactWriteItem},
};
use serde::{Deserialize, Serialize};
use shop_aws::dynamo::{self, DynamoError, TransactionError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{Product, ProductDetails, ProductStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SKU {0} is already taken")]
    SkuTaken(String),
    #[error("the product was changed by another request since it was read")]
    VersionConflict,
    #[error("another request wrote the same product or SKU at the same time")]
    Contended,
    #[error("a stored product cannot be read: {0}")]
    Corrupt(#[from] serde_dynamo::Error),
    #[error(transparent)]
    Dynamo(#[from] DynamoError),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    DynamoError: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(error.into())
    }
}

/// A product as stored: flat attributes, times as RFC 3339 strings, plus the correlation id
/// of the request that wrote this version (the publisher puts it on the event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    pub status: ProductStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub correlation_id: String,
}

impl ProductRecord {
    pub fn new(product: &Product, correlation_id: &str) -> Self {
        Self {
            id: product.id,
            sku: product.sku.clone(),
            name: product.details.name.clone(),
            description: product.details.description.clone(),
            price_cents: product.details.price_cents,
            currency: product.details.currency.clone(),
            status: product.status,
            version: product.version,
            created_at: product.created_at,
            updated_at: product.updated_at,
            correlation_id: correlation_id.to_owned(),
        }
    }

    pub fn into_product(self) -> Product {
        Product {
            id: self.id,
            sku: self.sku,
            details: ProductDetails {
                name: self.name,
                description: self.description,
                price_cents: self.price_cents,
                currency: self.currency,
            },
            status: self.status,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProductTable {
    client: Client,
    products_table: String,
    skus_table: String,
}

type Item = HashMap<String, AttributeValue>;

impl ProductTable {
    pub fn new(client: Client, products_table: String, skus_table: String) -> Self {
        Self {
            client,
            products_table,
            skus_table,
        }
    }

    /// Checks both tables exist, which also opens the connection to DynamoDB during the
    /// function's init phase instead of on its first request.
    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.products_table).await?;
        dynamo::connect(&self.client, &self.skus_table).await
    }

    /// Stores a new product and claims its SKU, atomically.
    pub async fn insert(&self, product: &Product, correlation_id: &str) -> Result<(), StoreError> {
        let item: Item = serde_dynamo::to_item(ProductRecord::new(product, correlation_id))?;
        let claim: Item = HashMap::from([
            ("sku".to_owned(), AttributeValue::S(product.sku.clone())),
            (
                "product_id".to_owned(),
                AttributeValue::S(product.id.to_string()),
            ),
        ]);
        let put = |table: &str, item: Item, key: &str| {
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
                        .condition_expression(format!("attribute_not_exists({key})"))
                        .build()
                        .expect("table name and item are set"),
                )
                .build()
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(&self.products_table, item, "id"))
            .transact_items(put(&self.skus_table, claim, "sku"))
            .send()
            .await;
        inserted(
            dynamo::classify_transaction(result).map(|_| ()),
            &product.sku,
        )
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<Product>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.products_table)
            .key("id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await?;
        output
            .item
            .map(|item| Ok(serde_dynamo::from_item::<_, ProductRecord>(item)?.into_product()))
            .transpose()
    }

    /// Stores a new version of a product if the stored one is still `product.version - 1`.
    pub async fn replace(&self, product: &Product, correlation_id: &str) -> Result<(), StoreError> {
        let item: Item = serde_dynamo::to_item(ProductRecord::new(product, correlation_id))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.products_table)
            .set_item(Some(item))
            .condition_expression("version = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N((product.version - 1).to_string()),
            )
            .send()
            .await;
        if shop_aws::condition_held(result)? {
            Ok(())
        } else {
            Err(StoreError::VersionConflict)
        }
    }

    /// Up to `limit` active products after the product `after`, and the id to continue from
    /// when there may be more.
    ///
    /// A filtered Scan can return pages with fewer matches than asked, so this reads on until
    /// the page is full and continues the next page after the last product returned, not
    /// where DynamoDB stopped reading. It reads at most [`MAX_SCANS_PER_PAGE`] Scan pages of
    /// `limit` items: when they hold too few active products the page is short and continues
    /// where DynamoDB stopped, so one public request never reads the whole table.
    pub async fn list_active(
        &self,
        limit: usize,
        after: Option<Uuid>,
    ) -> Result<(Vec<Product>, Option<Uuid>), StoreError> {
        let mut products = Vec::with_capacity(limit);
        let mut start =
            after.map(|id| HashMap::from([("id".to_owned(), AttributeValue::S(id.to_string()))]));
        for _ in 0..MAX_SCANS_PER_PAGE {
            let page = self
                .client
                .scan()
                .table_name(&self.products_table)
                .filter_expression("#status = :active")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", AttributeValue::S("ACTIVE".into()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            let more_pages = page.last_evaluated_key.is_some();
            let items = page.items.unwrap_or_default();
            let count = items.len();
            for (index, item) in items.into_iter().enumerate() {
                products.push(serde_dynamo::from_item::<_, ProductRecord>(item)?.into_product());
                if products.len() == limit {
                    let last_of_table = index + 1 == count && !more_pages;
                    let next = (!last_of_table).then(|| products[limit - 1].id);
                    return Ok((products, next));
                }
            }
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok((products, None)),
            }
        }
        let stopped_at = start
            .as_ref()
            .and_then(|key| key.get("id")?.as_s().ok()?.parse().ok());
        Ok((products, stopped_at))
    }
}

/// How many Scan pages one list request may read (each of at most `limit` items).
pub const MAX_SCANS_PER_PAGE: usize = 4;

/// What the create transaction came to. A failed SKU claim (item 1) means the SKU is taken.
/// A failed product condition (a fresh random id that exists) or a `TransactionConflict` (most
/// likely another create claiming the same SKU at that moment) refuses nothing for good: the
/// same request again succeeds or finds the SKU taken.
fn inserted(result: Result<(), TransactionError>, sku: &str) -> Result<(), StoreError> {
    match result {
        Ok(()) => Ok(()),
        Err(TransactionError::ConditionsFailed(items)) if items.contains(&1) => {
            Err(StoreError::SkuTaken(sku.to_owned()))
        }
        Err(TransactionError::ConditionsFailed(_) | TransactionError::Conflict) => {
            Err(StoreError::Contended)
        }
        Err(TransactionError::Dynamo(error)) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_sku_claim_is_a_taken_sku() {
        let failed = Err(TransactionError::ConditionsFailed(vec![1]));
        assert!(
            matches!(inserted(failed, "MUG-1"), Err(StoreError::SkuTaken(sku)) if sku == "MUG-1")
        );
    }

    #[test]
    fn a_transaction_conflict_is_contention_not_a_store_failure() {
        assert!(matches!(
            inserted(Err(TransactionError::Conflict), "MUG-1"),
            Err(StoreError::Contended)
        ));
    }
}
