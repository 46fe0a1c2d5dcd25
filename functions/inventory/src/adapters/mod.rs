//! Where inventory keeps its data.

pub mod stock;

pub use shop_aws::dynamo::StoreError;
pub use stock::{ReservationRecord, Stock, Taken};
