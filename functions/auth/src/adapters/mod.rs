//! Where auth keeps its data: the Cognito user pool, and two tables of its own.

pub mod attempts;
pub mod cognito;
pub mod customers;

pub use attempts::LoginAttempts;
pub use cognito::{IdentityProvider, PoolUser, ProviderError, Tokens};
pub use customers::{Customer, CustomerRecord, Customers};
pub use shop_aws::dynamo::StoreError;
