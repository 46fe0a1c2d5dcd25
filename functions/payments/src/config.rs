//! Settings from the environment the SAM template (or devstack) gives each function, read once
//! at init.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use shop_aws::{ConfigError, required_env, settings};

use crate::{
    adapters::{PaymentsTable, SimulatedProvider},
    service::Payments,
};

/// The service with the simulated provider, whose ledger shares the payments table
/// (`PAYMENTS_TABLE`, `PROVIDER_TIMEOUT_MS`).
pub fn payments(client: &Client) -> Result<Payments<SimulatedProvider>, ConfigError> {
    let table = required_env("PAYMENTS_TABLE")?;
    Ok(Payments {
        table: PaymentsTable::new(client.clone(), table.clone()),
        provider: SimulatedProvider::new(
            client.clone(),
            table,
            Duration::from_millis(settings::number("PROVIDER_TIMEOUT_MS")?),
        ),
    })
}
