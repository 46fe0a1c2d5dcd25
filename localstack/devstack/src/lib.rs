//! devstack: the shop's local cloud. moto emulates the AWS APIs; devstack adds what moto
//! cannot do here (run our Lambda functions, API Gateway with its JWT authorizer, stream and
//! rule event sources) and provisions everything from `infra/template.yaml`.
//!
//! One module per AWS behaviour it stands in for, each usable and testable alone; `main.rs`
//! only wires them.

pub mod activity;
pub mod cargo;
pub mod counters;
pub mod edge;
pub mod emulator;
pub mod execution_logs;
pub mod faults;
pub mod gateway;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod monitoring;
pub mod plan;
pub mod provision;
pub mod redrive;
pub mod seed;
pub mod sources;
pub mod stack;
pub mod template;
pub mod tls;

/// The account id moto uses in ARNs.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

pub use shop_aws::error_chain;
