//! The catalog service: products with a unique SKU, a public read API, admin-only writes,
//! and ProductCreated / ProductUpdated / ProductDiscontinued events published from the
//! products table's stream.
//!
//! - [`domain`]: products and their rules, pure;
//! - [`service`]: the use cases, tying the rules to the store;
//! - [`adapters`]: the DynamoDB tables;
//! - [`entrypoints`]: the HTTP API and the stream mapper, one per Lambda trigger.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod service;

/// The name this service uses in logs, metrics and event sources.
pub const SERVICE: &str = "catalog";
