//! Settings from the environment the SAM template (or devstack) gives each function, read once
//! at init.

use aws_sdk_dynamodb::Client;
use shop_aws::{MissingSetting, required_env};

use crate::{adapters::Stock, service::Inventory};

/// The service over its stock and reservation tables (`STOCK_TABLE`, `RESERVATIONS_TABLE`).
pub fn inventory(client: &Client) -> Result<Inventory, MissingSetting> {
    Ok(Inventory {
        stock: Stock::new(
            client.clone(),
            required_env("STOCK_TABLE")?,
            required_env("RESERVATIONS_TABLE")?,
        ),
    })
}
