//! Settings from the environment the SAM template (or devstack) gives each function.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use shop_aws::{MissingSetting, required_env};

use crate::{
    adapters::{PaymentsTable, SimulatedProvider},
    service::Payments,
};

/// The service with the simulated provider (`PAYMENTS_TABLE`, `PROVIDER_TIMEOUT_MS`).
pub fn payments(client: &Client) -> Result<Payments<SimulatedProvider>, MissingSetting> {
    let timeout_ms = required_env("PROVIDER_TIMEOUT_MS")?.parse().unwrap_or(1000);
    Ok(Payments {
        table: PaymentsTable::new(client.clone(), required_env("PAYMENTS_TABLE")?),
        provider: SimulatedProvider {
            timeout: Duration::from_millis(timeout_ms),
        },
    })
}
