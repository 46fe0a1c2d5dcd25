//! How the outside world reaches payments: one module per Lambda trigger.

pub mod bus;
pub mod http;
pub mod stream;
pub mod tasks;
