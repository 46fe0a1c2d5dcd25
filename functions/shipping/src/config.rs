//! Settings from the environment the SAM template (or devstack) gives each function, read once
//! at init.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use shop_aws::{ConfigError, MissingSetting, Stage, required_env, settings};

use crate::{adapters::Shipments, service::Shipping};

/// The service over its table (`SHIPMENTS_TABLE`).
pub fn shipping(client: &Client) -> Result<Shipping, MissingSetting> {
    Ok(Shipping {
        shipments: Shipments::new(client.clone(), required_env("SHIPMENTS_TABLE")?),
    })
}

/// Failure injection for the system tests (`shipping-events`): off unless set, and refused at
/// start-up on any stage but the local one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestHooks {
    /// `TEST_SHIPPING_HOLD_MS`: hold each OrderConfirmed this long before scheduling, so a
    /// system test can cancel a confirmed order before it ships.
    pub hold_order_confirmed: Option<Duration>,
}

impl TestHooks {
    pub fn from_env() -> Result<Self, ConfigError> {
        let hold = settings::optional_number::<u64>("TEST_SHIPPING_HOLD_MS")?
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis);
        if hold.is_some() {
            Stage::from_env()?.permit_test_hook("TEST_SHIPPING_HOLD_MS")?;
        }
        Ok(Self {
            hold_order_confirmed: hold,
        })
    }
}
