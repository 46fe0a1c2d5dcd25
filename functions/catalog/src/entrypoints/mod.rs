//! How the outside world reaches the catalog: one module per Lambda trigger.

pub mod http;
pub mod stream;
