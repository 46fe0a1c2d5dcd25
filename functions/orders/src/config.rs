//! Settings from the environment the SAM template (or devstack) gives each function. Each
//! function reads only the groups it uses.

use aws_sdk_dynamodb::Client;
use shop_aws::{MissingSetting, required_env};

use crate::{
    adapters::{EventStore, ProductCopies, ReadModel},
    service::Orders,
};

/// The event store (`EVENTS_TABLE`, `IDEMPOTENCY_TABLE`).
pub fn event_store(client: &Client) -> Result<EventStore, MissingSetting> {
    Ok(EventStore::new(
        client.clone(),
        required_env("EVENTS_TABLE")?,
        required_env("IDEMPOTENCY_TABLE")?,
    ))
}

/// The read model (`VIEWS_TABLE`, `TOTALS_TABLE`).
pub fn read_model(client: &Client) -> Result<ReadModel, MissingSetting> {
    Ok(ReadModel::new(
        client.clone(),
        required_env("VIEWS_TABLE")?,
        required_env("TOTALS_TABLE")?,
    ))
}

/// The copy of the catalog's products (`PRODUCTS_TABLE`).
pub fn product_copies(client: &Client) -> Result<ProductCopies, MissingSetting> {
    Ok(ProductCopies::new(
        client.clone(),
        required_env("PRODUCTS_TABLE")?,
    ))
}

/// The whole service: event store, read model and product copies.
pub fn orders(client: &Client) -> Result<Orders, MissingSetting> {
    Ok(Orders {
        store: event_store(client)?,
        views: read_model(client)?,
        products: product_copies(client)?,
    })
}
