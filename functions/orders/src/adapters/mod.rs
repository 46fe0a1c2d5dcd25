//! Where orders keeps its data: the event store (the truth), the read model (views rebuilt
//! from it at will), a copy of the catalog's products (from the catalog's events), and the
//! saga starter's claims; and the key that seals card tokens for payments.

pub mod card_tokens;
pub mod event_store;
pub mod products;
pub mod read_model;
pub mod saga_claims;

pub use card_tokens::{CardTokenSealer, SealError};
pub use event_store::{AppendError, EventStore, IdempotencyClaim, StoredEvent};
pub use products::ProductCopies;
pub use read_model::{OrderView, ReadModel, ReadModelError};
pub use saga_claims::{Claim, SagaClaims};
pub use shop_aws::dynamo::StoreError;
