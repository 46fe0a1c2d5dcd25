//! Settings from the environment the SAM template (or devstack) gives each function, read once
//! at init.

use shop_aws::{
    ConfigError, required_env,
    settings::{Stage, flag, number},
};

use crate::domain::{Lockout, PasswordPolicy};

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub user_pool_id: String,
    pub client_id: String,
    pub customers_table: String,
    pub attempts_table: String,
    pub password_policy: PasswordPolicy,
    pub lockout: Lockout,
    /// Confirm sign-ups at once, without the emailed code (local stages only).
    pub auto_confirm: bool,
}

impl HttpConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let auto_confirm = flag("AUTO_CONFIRM_SIGNUPS")?;
        if auto_confirm {
            permit_auto_confirm(&Stage::from_env()?)?;
        }
        Ok(Self {
            user_pool_id: required_env("USER_POOL_ID")?,
            client_id: required_env("USER_POOL_CLIENT_ID")?,
            customers_table: required_env("CUSTOMERS_TABLE")?,
            attempts_table: required_env("LOGIN_ATTEMPTS_TABLE")?,
            password_policy: PasswordPolicy {
                min_length: number("PASSWORD_MIN_LENGTH")?,
                require_lowercase: flag("PASSWORD_REQUIRE_LOWERCASE")?,
                require_uppercase: flag("PASSWORD_REQUIRE_UPPERCASE")?,
                require_numbers: flag("PASSWORD_REQUIRE_NUMBERS")?,
                require_symbols: flag("PASSWORD_REQUIRE_SYMBOLS")?,
            },
            lockout: Lockout {
                max_failures: number("LOGIN_MAX_FAILURES")?,
                max_failures_per_account: number("LOGIN_MAX_FAILURES_PER_ACCOUNT")?,
                max_failures_per_source: number("LOGIN_MAX_FAILURES_PER_SOURCE")?,
                window_secs: number("LOGIN_WINDOW_SECONDS")?,
            },
            auto_confirm,
        })
    }
}

/// Anyone could register any address without its code: a local stage's convenience, refused
/// at start-up anywhere else, as the test hooks are.
fn permit_auto_confirm(stage: &Stage) -> Result<(), ConfigError> {
    stage.permit_test_hook("AUTO_CONFIRM_SIGNUPS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_confirmed_sign_ups_are_refused_outside_the_local_stage() {
        assert!(permit_auto_confirm(&Stage::new("local")).is_ok());
        assert!(permit_auto_confirm(&Stage::new("dev")).is_err());
        assert!(permit_auto_confirm(&Stage::new("prod")).is_err());
    }
}
