//! A card provider for development and tests, driven by test tokens:
//!
//! | token | behaviour |
//! |---|---|
//! | `tok_visa` | holds the amount and approves |
//! | `tok_declined` (or any unknown token) | declines, holds nothing |
//! | `tok_timeout` | holds the amount, then never answers in time: waits, then times out |
//! | `tok_flaky` | holds the amount but the first answer for an order is lost (a timeout); a retry gets the same hold |
//!
//! A token may carry a suffix after a `+` (`tok_visa+3f9a`), which the provider ignores: a test
//! can give each order a token of its own and then look for it where no token may appear.
//!
//! Like a real provider it keeps its own books: one ledger entry per idempotency key (the
//! order), with at most one hold, and what was voided and refunded of it. A real provider keeps
//! them on its side; the simulation has no other side, so the entries live in the payments
//! table under keys of their own (`simulated-provider#<order id>`), which the table's stream
//! publisher skips. Every function that builds the provider reads the same entries, so a retry
//! on another instance still finds its hold.

use std::time::Duration;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, ReturnValue},
};
use serde::Deserialize;
use shop_aws::dynamo::StoreError;

use crate::ports::{CardProvider, LedgerEntry, ProviderError};

/// The prefix of the ledger entries' keys in the payments table.
pub const LEDGER_KEY_PREFIX: &str = "simulated-provider#";

#[derive(Debug, Clone)]
pub struct SimulatedProvider {
    /// How long `tok_timeout` keeps the caller waiting before timing out.
    pub timeout: Duration,
    client: Client,
    table: String,
}

/// A ledger entry as stored.
#[derive(Debug, Deserialize)]
struct LedgerRecord {
    attempts: u32,
    #[serde(default)]
    authorization_id: Option<String>,
    authorized_cents: i64,
    voided_cents: i64,
    refunded_cents: i64,
    currency: String,
}

impl From<StoreError> for ProviderError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl SimulatedProvider {
    /// The provider whose ledger lives in `table` (the payments table).
    pub fn new(client: Client, table: String, timeout: Duration) -> Self {
        Self {
            timeout,
            client,
            table,
        }
    }

    fn key(order_key: &str) -> AttributeValue {
        AttributeValue::S(format!("{LEDGER_KEY_PREFIX}{order_key}"))
    }

    /// Counts one more authorization under `key`, opening its entry on the first; the count.
    async fn count_attempt(&self, key: &str, currency: &str) -> Result<u32, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", Self::key(key))
            .update_expression(
                "ADD attempts :one SET currency = if_not_exists(currency, :currency), \
                 authorized_cents = if_not_exists(authorized_cents, :zero), \
                 voided_cents = if_not_exists(voided_cents, :zero), \
                 refunded_cents = if_not_exists(refunded_cents, :zero)",
            )
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":currency", AttributeValue::S(currency.to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        let record: LedgerRecord = serde_dynamo::from_item(output.attributes.unwrap_or_default())?;
        Ok(record.attempts)
    }

    /// Places the hold of `key` unless it has one; the hold's authorization id either way.
    async fn hold(&self, key: &str, amount_cents: i64) -> Result<String, StoreError> {
        let authorization_id = format!("auth_{}", uuid::Uuid::new_v4().simple());
        let placed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", Self::key(key))
            .update_expression("SET authorization_id = :id, authorized_cents = :amount")
            .condition_expression("attribute_not_exists(authorization_id)")
            .expression_attribute_values(":id", AttributeValue::S(authorization_id.clone()))
            .expression_attribute_values(":amount", number(amount_cents))
            .send()
            .await;
        if shop_aws::condition_held(placed)? {
            return Ok(authorization_id);
        }
        self.entry(key)
            .await?
            .and_then(|entry| entry.authorization_id)
            .ok_or_else(|| StoreError::Corrupt(format!("the hold of {key} vanished")))
    }

    async fn entry(&self, key: &str) -> Result<Option<LedgerEntry>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("order_id", Self::key(key))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let record: LedgerRecord = serde_dynamo::from_item(item)?;
        Ok(Some(LedgerEntry {
            attempts: record.attempts,
            authorization_id: record.authorization_id,
            authorized_cents: record.authorized_cents,
            voided_cents: record.voided_cents,
            refunded_cents: record.refunded_cents,
            currency: record.currency,
        }))
    }
}

impl CardProvider for SimulatedProvider {
    async fn authorize(
        &self,
        key: &str,
        card_token: &str,
        amount_cents: i64,
        currency: &str,
    ) -> Result<String, ProviderError> {
        let attempt = self.count_attempt(key, currency).await?;
        let test_token = card_token
            .split_once('+')
            .map_or(card_token, |(name, _suffix)| name);
        match test_token {
            "tok_timeout" => {
                self.hold(key, amount_cents).await?;
                tokio::time::sleep(self.timeout).await;
                Err(ProviderError::Timeout)
            }
            "tok_flaky" => {
                let authorization_id = self.hold(key, amount_cents).await?;
                if attempt <= 1 {
                    Err(ProviderError::Timeout)
                } else {
                    Ok(authorization_id)
                }
            }
            "tok_visa" => Ok(self.hold(key, amount_cents).await?),
            _ => Err(ProviderError::Declined),
        }
    }

    async fn void(&self, key: &str) -> Result<(), ProviderError> {
        // Nothing held, already voided, or refunded instead: each leaves nothing to release.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", Self::key(key))
            .update_expression("SET voided_cents = authorized_cents")
            .condition_expression(
                "attribute_exists(authorization_id) AND voided_cents = :zero AND refunded_cents = :zero",
            )
            .expression_attribute_values(":zero", number(0))
            .send()
            .await;
        shop_aws::condition_held(result).map_err(StoreError::from)?;
        Ok(())
    }

    async fn refund(
        &self,
        key: &str,
        amount_cents: i64,
        currency: &str,
    ) -> Result<(), ProviderError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", Self::key(key))
            .update_expression("SET refunded_cents = :amount")
            .condition_expression(
                "attribute_exists(authorization_id) AND currency = :currency \
                 AND voided_cents = :zero AND authorized_cents >= :amount \
                 AND (refunded_cents = :zero OR refunded_cents = :amount)",
            )
            .expression_attribute_values(":amount", number(amount_cents))
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":currency", AttributeValue::S(currency.to_owned()))
            .send()
            .await;
        if shop_aws::condition_held(result).map_err(StoreError::from)? {
            Ok(())
        } else {
            Err(ProviderError::Refused(format!(
                "{key} holds nothing to refund {amount_cents} {currency} of"
            )))
        }
    }

    async fn ledger(&self, key: &str) -> Result<Option<LedgerEntry>, ProviderError> {
        Ok(self.entry(key).await?)
    }
}
