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

/// Orders of customers whose id starts with this ask the hold hook to hold them.
pub const HELD_CUSTOMER_PREFIX: &str = "test-hold-shipment-";

/// Failure injection for the system tests (`shipping-events`): off unless set, and refused at
/// start-up on any stage but the local one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestHooks {
    /// `TEST_SHIPPING_HOLD_MS`: hold the OrderConfirmed of an order that asks for it (its
    /// customer's id starts with [`HELD_CUSTOMER_PREFIX`]) until the order's cancellation
    /// reaches shipping, or this long at most, so a system test can cancel a confirmed order
    /// before it ships. Every other order ships at once.
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

    /// How long to hold the confirmation of `customer_id`'s order, if at all.
    pub fn hold_for(&self, customer_id: &str) -> Option<Duration> {
        self.hold_order_confirmed
            .filter(|_| customer_id.starts_with(HELD_CUSTOMER_PREFIX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_orders_that_ask_for_it_are_held() {
        let hooks = TestHooks {
            hold_order_confirmed: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            hooks.hold_for("test-hold-shipment-7f3a"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(hooks.hold_for("0d3c2b1a-1111-4222-8333-944455556666"), None);
        assert_eq!(
            TestHooks::default().hold_for("test-hold-shipment-7f3a"),
            None,
            "off unless set"
        );
    }
}
