//! The payments table and the simulated card provider.

pub mod simulated_provider;
pub mod table;

pub use simulated_provider::SimulatedProvider;
pub use table::{PaymentsTable, StoreError};
