//! Function settings from the environment the SAM template (or devstack) gives each function.
//!
//! Every setting is read once, at init, and a function refuses to start on a missing or
//! unreadable one: a function pointed at the wrong table, or running with a limit nobody chose,
//! is worse than one that does not start. The only settings that may be absent are test hooks,
//! which are off unless set and refused outside a local stage ([`Stage::permit_test_hook`]).

use std::str::FromStr;

/// A setting a function cannot start without.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is not set; the SAM template (or devstack) must provide it")]
pub struct MissingSetting {
    pub name: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingSetting),
    #[error("{name} must be {expected}, found {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error(
        "test hook {name} is on in stage {stage:?}; test hooks run only in the {LOCAL:?} stage"
    )]
    TestHookOutsideLocal { name: &'static str, stage: String },
}

/// Reads a required environment variable. Resource names never have silent defaults: a
/// function pointed at the wrong table is worse than one that refuses to start.
pub fn required_env(name: &'static str) -> Result<String, MissingSetting> {
    optional_env(name).ok_or(MissingSetting { name })
}

/// A required whole number (a limit, a timeout).
pub fn number<T: FromStr>(name: &'static str) -> Result<T, ConfigError> {
    parse_number(name, required_env(name)?)
}

/// A required `true` or `false`.
pub fn flag(name: &'static str) -> Result<bool, ConfigError> {
    parse_flag(name, required_env(name)?)
}

/// A whole number that may be absent: only for test hooks, which are off unless set.
pub fn optional_number<T: FromStr>(name: &'static str) -> Result<Option<T>, ConfigError> {
    optional_env(name)
        .map(|value| parse_number(name, value))
        .transpose()
}

/// A `true` or `false` that may be absent: only for test hooks, which are off unless set.
pub fn optional_flag(name: &'static str) -> Result<Option<bool>, ConfigError> {
    optional_env(name)
        .map(|value| parse_flag(name, value))
        .transpose()
}

fn optional_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn parse_number<T: FromStr>(name: &'static str, value: String) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        name,
        expected: "a whole number",
        value,
    })
}

fn parse_flag(name: &'static str, value: String) -> Result<bool, ConfigError> {
    match value.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            expected: "true or false",
            value,
        }),
    }
}

/// The stage devstack runs: the only one where test hooks may be on.
const LOCAL: &str = "local";

/// The stage a function runs in (`STAGE`, the template's `Stage` parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage(String);

impl Stage {
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn from_env() -> Result<Self, MissingSetting> {
        required_env("STAGE").map(Self)
    }

    pub fn is_local(&self) -> bool {
        self.0 == LOCAL
    }

    /// Test hooks inject failures for the system tests. The binary that deploys is the binary
    /// that is tested, so it carries them; a hook that is on outside the local stage is a
    /// configuration error at start-up, never a hook that runs.
    pub fn permit_test_hook(&self, name: &'static str) -> Result<(), ConfigError> {
        if self.is_local() {
            Ok(())
        } else {
            Err(ConfigError::TestHookOutsideLocal {
                name,
                stage: self.0.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_that_does_not_parse_is_an_error_not_a_default() {
        assert_eq!(parse_number::<u64>("N", "250".into()).unwrap(), 250);
        let error = parse_number::<u64>("PROVIDER_TIMEOUT_MS", "1s".into()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "PROVIDER_TIMEOUT_MS must be a whole number, found \"1s\""
        );
    }

    #[test]
    fn a_flag_is_true_or_false_and_nothing_else() {
        assert!(parse_flag("F", "true".into()).unwrap());
        assert!(!parse_flag("F", "false".into()).unwrap());
        assert!(parse_flag("F", "yes".into()).is_err());
        assert!(parse_flag("F", "TRUE".into()).is_err());
    }

    #[test]
    fn test_hooks_are_permitted_in_the_local_stage_only() {
        assert!(Stage::new("local").permit_test_hook("TEST_HOOKS").is_ok());
        for stage in ["dev", "prod", "test-1a2b", "localhost"] {
            let error = Stage::new(stage)
                .permit_test_hook("TEST_HOOKS")
                .unwrap_err();
            assert!(
                matches!(
                    error,
                    ConfigError::TestHookOutsideLocal {
                        name: "TEST_HOOKS",
                        ..
                    }
                ),
                "{stage}: {error}"
            );
        }
    }
}
