//! Test harness for integration tests against a real AWS emulator (moto server).
//!
//! - [`Moto`]: one moto server per test process on a free loopback port, started from the
//!   project's Python venv, or the endpoint in `SHOP_TEST_AWS_ENDPOINT` when set;
//! - [`unique_name`]: resource names no other test shares, so tests run in parallel on one
//!   emulator;
//! - [`template`]: tables created from `infra/template.yaml`, so tests prove the code works with
//!   the key schema that deploys;
//! - [`streams`] and [`bus`]: read a table's real stream as a Lambda event; subscribe a queue to
//!   a bus and collect what arrives;
//! - [`api`]: API Gateway (HTTP API, payload 2.0) requests, as Lambda hands them to a router.

pub mod api;
pub mod bus;
pub mod moto;
pub mod schemas;
pub mod stack;
pub mod streams;
pub mod template;

pub use moto::Moto;

/// A name unique to this call, e.g. `products-3f9a1c2b7d4e`.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// The workspace root (where `Cargo.toml`, `infra/` and `.venv/` live).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Fails unless `docs/api/<name>.openapi.json` is exactly `spec`, so reviewers see every API
/// change in the committed document. With `UPDATE_OPENAPI` set (`make openapi`), writes it.
pub fn assert_openapi_document(name: &str, spec: &utoipa::openapi::OpenApi) {
    let generated = spec
        .to_pretty_json()
        .expect("an OpenAPI document serialises")
        + "\n";
    let path = workspace_root().join(format!("docs/api/{name}.openapi.json"));
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write the OpenAPI document");
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "{} is stale: run `make openapi`",
        path.display()
    );
}
