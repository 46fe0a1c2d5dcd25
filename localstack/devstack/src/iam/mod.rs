//! IAM as devstack applies it: policy evaluation ([`policy`]), what an AWS call needs
//! ([`calls`]) and every function's execution role enforced at the edge ([`roles`]).

pub mod calls;
pub mod policy;
pub mod roles;

pub use policy::{Decision, Request, decide, function_statements, statements};
pub use roles::{ExecutionRoles, Role};
