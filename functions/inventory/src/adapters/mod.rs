//! Where inventory keeps its data.

pub mod stock;

pub use stock::{Released, Reserved, Stock, StockError};
