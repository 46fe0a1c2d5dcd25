//! How the outside world reaches orders: one module per Lambda trigger.

pub mod bus;
pub mod http;
pub mod projector;
pub mod rebuild;
pub mod stream;
pub mod tasks;
