//! Settings from the environment the SAM template (or devstack) gives each function, read once
//! at init.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use shop_aws::{ConfigError, required_env, settings};

use crate::{
    adapters::{CardTokenOpener, PaymentsTable, SimulatedProvider},
    service::Payments,
};

/// The key card tokens arrive sealed with (`CARD_TOKEN_KEY_ARN`); only `payments-tasks` reads
/// it, being the one function allowed to decrypt under it.
pub fn card_token_opener(
    client: aws_sdk_kms::Client,
) -> Result<CardTokenOpener, shop_aws::MissingSetting> {
    Ok(CardTokenOpener::new(
        client,
        required_env("CARD_TOKEN_KEY_ARN")?,
    ))
}

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
