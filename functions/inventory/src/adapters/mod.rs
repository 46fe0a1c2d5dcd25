//! Where inventory keeps its data.

pub mod stock;

use aws_sdk_dynamodb::error::SdkError;
use shop_aws::dynamo::DynamoError;
pub use stock::{ReservationRecord, Stock, Taken};

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
