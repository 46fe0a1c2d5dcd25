//! How the outside world reaches auth: one module per Lambda trigger.

pub mod http;
pub mod stream;
