//! Where auth keeps its data: the Cognito user pool, and two tables of its own.

pub mod attempts;
pub mod cognito;
pub mod customers;

pub use attempts::LoginAttempts;
pub use cognito::{IdentityProvider, ProviderError, Tokens};
pub use customers::{Customer, CustomerRecord, Customers};

/// A failure of one of auth's own tables.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB failed: {0}")]
    Dynamo(String),
    #[error("a stored item cannot be read: {0}")]
    Corrupt(#[from] serde_dynamo::Error),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug>
    From<aws_sdk_dynamodb::error::SdkError<E, R>> for StoreError
{
    fn from(error: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        Self::Dynamo(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())
    }
}
