//! Where orders keeps its data: the event store (the truth), the read model (views rebuilt
//! from it at will), and a copy of the catalog's products (from the catalog's events); and the
//! key that seals card tokens for payments.

pub mod card_tokens;
pub mod event_store;
pub mod products;
pub mod read_model;

pub use card_tokens::{CardTokenSealer, SealError};
pub use event_store::{AppendError, EventStore, IdempotencyClaim, StoredEvent};
pub use products::ProductCopies;
pub use read_model::{OrderView, ReadModel, ReadModelError};
pub use shop_aws::dynamo::StoreError;
