//! The catalog's use cases: the domain's rules applied to what is stored.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    adapters::{ProductTable, StoreError},
    domain::{Product, ProductInput, RevisionError, Violation},
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid product")]
    Invalid(Vec<Violation>),
    #[error("no such product")]
    NotFound,
    #[error("SKU {0} is already taken")]
    SkuTaken(String),
    #[error(transparent)]
    Revision(#[from] RevisionError),
    #[error("the product was changed by another request; read it again and retry")]
    Conflict,
    #[error("another request wrote the same product or SKU at the same time; retry")]
    Contended,
    #[error("the product store failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for CatalogError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::SkuTaken(sku) => Self::SkuTaken(sku),
            StoreError::VersionConflict => Self::Conflict,
            StoreError::Contended => Self::Contended,
            other => Self::Store(other),
        }
    }
}

/// A page of products and the id to continue after.
pub type ProductPage = (Vec<Product>, Option<Uuid>);

#[derive(Debug, Clone)]
pub struct Catalog {
    table: ProductTable,
}

impl Catalog {
    pub fn new(table: ProductTable) -> Self {
        Self { table }
    }

    /// The store, for the health check.
    pub fn table(&self) -> &ProductTable {
        &self.table
    }

    pub async fn create(
        &self,
        input: ProductInput,
        correlation_id: &str,
    ) -> Result<Product, CatalogError> {
        let (sku, details) = input.validate_new().map_err(CatalogError::Invalid)?;
        let product = Product::create(Uuid::new_v4(), sku, details, OffsetDateTime::now_utc());
        self.table.insert(&product, correlation_id).await?;
        Ok(product)
    }

    /// Any product by id, discontinued ones included. An id that is not a UUID names no
    /// product, so it is simply not found.
    pub async fn get(&self, id: &str) -> Result<Product, CatalogError> {
        let id = Uuid::parse_str(id).map_err(|_| CatalogError::NotFound)?;
        self.table.get(id).await?.ok_or(CatalogError::NotFound)
    }

    pub async fn list(
        &self,
        limit: usize,
        after: Option<Uuid>,
    ) -> Result<ProductPage, CatalogError> {
        Ok(self.table.list_active(limit, after).await?)
    }

    pub async fn revise(
        &self,
        id: &str,
        input: ProductInput,
        correlation_id: &str,
    ) -> Result<Product, CatalogError> {
        let details = input.validate_details().map_err(CatalogError::Invalid)?;
        let current = self.get(id).await?;
        let revised = current.revise(details, OffsetDateTime::now_utc())?;
        self.table.replace(&revised, correlation_id).await?;
        Ok(revised)
    }

    /// Discontinues a product; discontinuing one that already is succeeds and changes nothing.
    pub async fn discontinue(
        &self,
        id: &str,
        correlation_id: &str,
    ) -> Result<Product, CatalogError> {
        let current = self.get(id).await?;
        match current.discontinue(OffsetDateTime::now_utc()) {
            Some(discontinued) => {
                self.table.replace(&discontinued, correlation_id).await?;
                Ok(discontinued)
            }
            None => Ok(current),
        }
    }
}
