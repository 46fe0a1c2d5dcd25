//! Settings from the environment the SAM template (or devstack) gives the canary, read once at
//! init.

use shop_aws::{MissingSetting, required_env};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `API_URL`: the public API's base URL (the HTTP API's invoke URL on AWS, the local
    /// gateway on devstack), without a trailing slash.
    pub api_url: String,
}

impl Config {
    pub fn from_env() -> Result<Self, MissingSetting> {
        let api_url = required_env("API_URL")?;
        Ok(Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
        })
    }
}
