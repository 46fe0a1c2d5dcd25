//! How shipping hears and speaks: bus events in, HTTP reads, its table's stream out.

pub mod bus;
pub mod http;
pub mod stream;
