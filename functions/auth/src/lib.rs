//! The auth service: one place that manages users and authentication for every other
//! service, on a Cognito user pool.
//!
//! - sign-up puts new users in the `customer` group (admins are made by operators, never by a
//!   public route); confirmation records the customer, whose table stream announces
//!   CustomerRegistered;
//! - login is the only way to check a password (Cognito's admin flow, allowed to this
//!   function's role alone); it answers every failure with the same 401, and takes a count on
//!   the account from its source, the account and the source in auth's own table before
//!   asking Cognito, refusing with 429 when one is full;
//! - passwords and tokens are never stored or logged by this code.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entrypoints;
pub mod service;

pub const SERVICE: &str = "auth";
