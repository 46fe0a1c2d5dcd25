//! The payments service: one payment per order, authorized with a card provider, voided when
//! the order is rejected and refunded when it is cancelled.
//!
//! The provider is a trait ([`ports::CardProvider`]); this project ships a simulated one whose
//! test tokens behave like a real provider's outcomes (approve, decline, time out, fail once).
//! Every operation is idempotent per order, and no amount ever exceeds what was authorized.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod ports;
pub mod service;

pub const SERVICE: &str = "payments";
