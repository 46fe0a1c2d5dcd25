//! How the outside world reaches orders: one module per Lambda trigger.

pub mod catalog_sync;
pub mod choreography;
pub mod http;
pub mod projector;
pub mod rebuild;
pub mod saga;
pub mod stream;
pub mod tasks;
