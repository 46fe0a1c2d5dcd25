//! Where shipping keeps its data.

pub mod shipments;

use aws_sdk_dynamodb::error::SdkError;
pub use shipments::Shipments;
use shop_aws::dynamo::DynamoError;

/// A failure of DynamoDB or of a shipment read from it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Dynamo(#[from] DynamoError),
    #[error("a stored shipment cannot be read")]
    Corrupt(#[from] serde_dynamo::Error),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    DynamoError: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(error.into())
    }
}
