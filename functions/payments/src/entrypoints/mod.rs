//! How the outside world reaches payments: one module per Lambda trigger.

pub mod events;
pub mod http;
pub mod stream;
pub mod tasks;
