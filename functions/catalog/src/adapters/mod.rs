//! Where the catalog keeps its data.

pub mod dynamodb;

pub use dynamodb::{ProductRecord, ProductTable, StoreError};
