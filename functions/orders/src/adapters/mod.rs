//! Where orders keeps its data: the event store (the truth), the read model (views rebuilt
//! from it at will), and a copy of the catalog's products (from the catalog's events).

pub mod event_store;
pub mod products;
pub mod read_model;

pub use event_store::{AppendError, EventStore, IdempotencyClaim, StoredEvent};
pub use products::ProductCopies;
pub use read_model::{OrderView, ReadModel};

use aws_sdk_dynamodb::error::SdkError;
use shop_aws::dynamo::DynamoError;

/// A failure of DynamoDB or of data read from it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Dynamo(#[from] DynamoError),
    #[error("a stored item cannot be read: {0}")]
    Corrupt(String),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    DynamoError: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(error.into())
    }
}

impl From<serde_dynamo::Error> for StoreError {
    fn from(error: serde_dynamo::Error) -> Self {
        Self::Corrupt(error.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        Self::Corrupt(error.to_string())
    }
}
