//! What payments needs from a card provider.

use std::{error::Error, future::Future};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The card was refused: final, retrying will not help.
    #[error("the card was declined")]
    Declined,
    /// No answer in time: worth retrying. The provider may have acted before the answer was
    /// lost, which is why every call carries an idempotency key.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The provider refused a void or refund: nothing is held under the key, or less than asked.
    #[error("the provider refused: {0}")]
    Refused(String),
    /// The provider could not be reached.
    #[error("the provider is unavailable")]
    Unavailable(#[source] Box<dyn Error + Send + Sync>),
}

/// What a provider holds for one idempotency key (one order): its side of the books, to hold
/// against what payments recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Authorizations asked for under the key.
    pub attempts: u32,
    /// The hold, once one was placed; there is at most one per key.
    pub authorization_id: Option<String>,
    pub authorized_cents: i64,
    pub voided_cents: i64,
    pub refunded_cents: i64,
    pub currency: String,
}

/// A card provider. Every call carries the order's id as its idempotency key, as real
/// providers take one: a repeated call with the same key is answered as the first was, so a
/// retried authorization (after a timeout, a crash, a redelivery) never holds the amount twice,
/// and a repeated void or refund changes nothing.
pub trait CardProvider: Send + Sync {
    /// Holds `amount_cents` on the card; the authorization's id.
    fn authorize(
        &self,
        key: &str,
        card_token: &str,
        amount_cents: i64,
        currency: &str,
    ) -> impl Future<Output = Result<String, ProviderError>> + Send;

    /// Releases the hold placed under `key`; nothing to release is not an error.
    fn void(&self, key: &str) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Gives back `amount_cents` of what `key` holds, once.
    fn refund(
        &self,
        key: &str,
        amount_cents: i64,
        currency: &str,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// What the provider holds under `key`; `None` when it was never asked.
    fn ledger(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<LedgerEntry>, ProviderError>> + Send;
}
