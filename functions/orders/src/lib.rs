//! The orders service: event-sourced orders with CQRS read models.
//!
//! - commands (place, confirm, reject, ship, cancel) append events to the event store with
//!   optimistic concurrency; the aggregate is pure (`domain`);
//! - the store's stream feeds the projector (views and per-customer totals) and the publisher
//!   (integration events on the bus);
//! - queries read the views; the audit trail and `as_of` replay the store;
//! - the read model can be dropped and rebuilt from the store at any time (`orders-rebuild`).

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod service;

pub const SERVICE: &str = "orders";
