//! The payments table, the simulated card provider, and the key card tokens arrive sealed with.

pub mod card_tokens;
pub mod simulated_provider;
pub mod table;

pub use card_tokens::{CardTokenOpener, OpenError};
pub use shop_aws::dynamo::StoreError;
pub use simulated_provider::SimulatedProvider;
pub use table::PaymentsTable;
