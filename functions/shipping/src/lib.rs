//! The shipping service. It takes part in the order's life by choreography only: it listens
//! for OrderConfirmed and OrderCancelled on the bus and announces ShipmentScheduled and
//! ShipmentCancelled from its table's stream; nobody calls it.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod service;

pub const SERVICE: &str = "shipping";
