//! How the outside world reaches payments: one module per Lambda trigger.

pub mod http;
pub mod tasks;
