//! The inventory service: how many of each SKU the shop has, and which order holds how many.
//!
//! Reserving takes every line of an order or none, and never lets available stock go below
//! zero: all lines and the order's reservation are one DynamoDB transaction of conditional
//! writes. Reserving and releasing are idempotent per order, so saga retries and redelivered
//! messages change nothing the second time.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod service;

pub const SERVICE: &str = "inventory";
