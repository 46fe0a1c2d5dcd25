//! The payments table and the simulated card provider.

pub mod simulated_provider;
pub mod table;

pub use shop_aws::dynamo::StoreError;
pub use simulated_provider::SimulatedProvider;
pub use table::PaymentsTable;
