//! Where auth keeps its data: the Cognito user pool, and two tables of its own.

pub mod attempts;
pub mod cognito;
pub mod customers;

pub use attempts::LoginAttempts;
pub use cognito::{IdentityProvider, ProviderError, Tokens};
pub use customers::{Customer, CustomerRecord, Customers};

use aws_sdk_dynamodb::error::SdkError;
use shop_aws::dynamo::DynamoError;

/// A failure of one of auth's own tables.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Dynamo(#[from] DynamoError),
    #[error("a stored item cannot be read")]
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
