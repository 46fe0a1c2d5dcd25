//! Settings from the environment the SAM template (or devstack) gives each function.

use shop_aws::{MissingSetting, required_env};

/// The HTTP function's settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub products_table: String,
    pub skus_table: String,
}

impl HttpConfig {
    pub fn from_env() -> Result<Self, MissingSetting> {
        Ok(Self {
            products_table: required_env("PRODUCTS_TABLE")?,
            skus_table: required_env("SKUS_TABLE")?,
        })
    }
}
