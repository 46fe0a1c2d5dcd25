//! How the outside world reaches inventory: one module per Lambda trigger.

pub mod http;
pub mod tasks;
