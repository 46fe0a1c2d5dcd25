//! The auth service: one place that manages users and authentication for every other
//! service, on a Cognito user pool.
//!
//! - sign-up puts new users in the `customer` group (admins are made by operators, never by a
//!   public route); confirmation records the customer, whose table stream announces
//!   CustomerRegistered;
//! - login answers every failure with the same 401, counts failures per account and per source
//!   in auth's own table, and refuses with 429 once either is over the limit;
//! - passwords and tokens are never stored or logged by this code.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod service;

pub const SERVICE: &str = "auth";
