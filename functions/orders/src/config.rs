//! Settings from the environment the SAM template (or devstack) gives each function, read once
//! at init. Each function reads only the groups it uses.

use aws_sdk_dynamodb::Client;
use shop_aws::{ConfigError, MissingSetting, Stage, required_env, settings};
use shop_events::ParkingQueue;

use crate::{
    adapters::{CardTokenSealer, EventStore, ProductCopies, ReadModel, SagaClaims},
    entrypoints::projector::Projector,
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

/// The projector: the event store, the read model, and the queue it parks records it cannot
/// project in (`PARKING_QUEUE_URL`).
pub fn projector(client: &Client, sqs: aws_sdk_sqs::Client) -> Result<Projector, MissingSetting> {
    Ok(Projector {
        store: event_store(client)?,
        views: read_model(client)?,
        parking: ParkingQueue::from_env(sqs, crate::SERVICE)?,
    })
}

/// The copy of the catalog's products (`PRODUCTS_TABLE`).
pub fn product_copies(client: &Client) -> Result<ProductCopies, MissingSetting> {
    Ok(ProductCopies::new(
        client.clone(),
        required_env("PRODUCTS_TABLE")?,
    ))
}

/// The saga starter's claims (`SAGA_CLAIMS_TABLE`); only `orders-saga-starter` writes them.
pub fn saga_claims(client: &Client) -> Result<SagaClaims, MissingSetting> {
    Ok(SagaClaims::new(
        client.clone(),
        required_env("SAGA_CLAIMS_TABLE")?,
    ))
}

/// The key that seals card tokens for payments (`CARD_TOKEN_KEY_ARN`); only `orders-http`
/// reads it, being the one orders function allowed to encrypt under it.
pub fn card_token_sealer(client: aws_sdk_kms::Client) -> Result<CardTokenSealer, MissingSetting> {
    Ok(CardTokenSealer::new(
        client,
        required_env("CARD_TOKEN_KEY_ARN")?,
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

/// Failure injection for the system tests (`orders-tasks`): off unless set, and refused at
/// start-up on any stage but the local one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestHooks {
    /// `TEST_HOOKS=true`: confirming an order whose shipping address is named
    /// [`CRASH_ON_CONFIRM`](crate::entrypoints::tasks::CRASH_ON_CONFIRM) kills the task's
    /// process before it confirms, as a crash mid-task would;
    /// [`CRASH_AFTER_CONFIRM`](crate::entrypoints::tasks::CRASH_AFTER_CONFIRM) kills it after the
    /// confirmation is stored.
    pub crash_on_confirm: bool,
}

impl TestHooks {
    pub fn from_env() -> Result<Self, ConfigError> {
        let crash_on_confirm = settings::optional_flag("TEST_HOOKS")?.unwrap_or(false);
        if crash_on_confirm {
            Stage::from_env()?.permit_test_hook("TEST_HOOKS")?;
        }
        Ok(Self { crash_on_confirm })
    }
}
