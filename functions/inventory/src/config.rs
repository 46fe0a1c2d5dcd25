//! Settings from the environment the SAM template (or devstack) gives each function.

use aws_sdk_dynamodb::Client;
use shop_aws::{MissingSetting, required_env};

use crate::adapters::Stock;

/// The stock and reservation tables (`STOCK_TABLE`, `RESERVATIONS_TABLE`).
pub fn stock(client: &Client) -> Result<Stock, MissingSetting> {
    Ok(Stock::new(
        client.clone(),
        required_env("STOCK_TABLE")?,
        required_env("RESERVATIONS_TABLE")?,
    ))
}
