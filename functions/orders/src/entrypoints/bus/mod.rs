//! What orders takes from the bus: one module per subscription (one function and one
//! EventBridge rule each), each with its own typed inbox.
//!
//! | Module | Function | Inbox |
//! |---|---|---|
//! | [`catalog_sync`] | `orders-catalog-sync` | [`catalog_sync::CatalogProducts`] |
//! | [`choreography`] | `orders-choreography` | [`choreography::Choreography`] |
//! | [`saga`] | `orders-saga-starter` | [`saga::SagaStart`] |

pub mod catalog_sync;
pub mod choreography;
pub mod saga;
