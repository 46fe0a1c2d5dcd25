//! One place that turns the process environment into AWS SDK configuration.
//!
//! In Lambda the region and credentials come from the runtime's environment. Against an
//! emulator (moto, devstack, LocalStack) `AWS_ENDPOINT_URL` points every client at it; the
//! SDK reads that variable itself, so the same binary runs in both places unchanged.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::{
    Builder,
    tls::{self, rustls_provider::CryptoMode},
};

/// Loads the shared SDK configuration from the environment.
pub async fn load() -> SdkConfig {
    loader().load().await
}

/// The loader behind [`load`], for callers (tests, tools) that override some settings.
///
/// The HTTPS client is chosen explicitly (rustls with the `ring` provider) because the SDK's
/// default one pulls in aws-lc-sys, a long C build that buys nothing here.
pub fn loader() -> ConfigLoader {
    let http_client = Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client)
}

/// A setting a function cannot start without.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is not set; the SAM template (or devstack) must provide it")]
pub struct MissingSetting {
    pub name: &'static str,
}

/// Reads a required environment variable. Resource names never have silent defaults: a
/// function pointed at the wrong table is worse than one that refuses to start.
pub fn required_env(name: &'static str) -> Result<String, MissingSetting> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or(MissingSetting { name })
}
