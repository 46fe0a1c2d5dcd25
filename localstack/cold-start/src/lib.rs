//! Cold starts of the shop's functions, measured (`make bench-cold`).
//!
//! Each run starts a fresh process of a function's release binary as Lambda would: the
//! reserved variables devstack gives a function and the template's own, `AWS_ENDPOINT_URL` at a
//! moto server that holds the template's resources, and a Runtime API ([`runtime_api`]) that
//! hands it exactly one invocation. The host notes the exec, the first `next` request (init is
//! over) and the posted response; a recording proxy ([`proxy`]) between the function and moto
//! times every AWS call on the way. A minimal `lambda_runtime` echo function, built in the same
//! run, is the floor each function is compared with.
//!
//! The report ([`report`]) gives, per function, the medians of init, exec → first response,
//! the time spent in AWS calls, and what remains when those are taken away, with init split at
//! the lines the function logs as it starts (see [`report::LOGGING_READY`]).

pub mod launch;
pub mod proxy;
pub mod report;
pub mod runtime_api;
pub mod subjects;

/// The workspace root (where `infra/`, `events/` and `.venv/` are).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}
