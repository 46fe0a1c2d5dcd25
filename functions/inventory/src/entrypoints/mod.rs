//! How the outside world reaches inventory: one module per Lambda trigger.

pub mod events;
pub mod http;
pub mod stream;
pub mod tasks;
