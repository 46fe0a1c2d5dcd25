//! What payments needs from a card provider.

use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The card was refused: final, retrying will not help.
    #[error("the card was declined")]
    Declined,
    /// No answer in time or a passing failure: worth retrying.
    #[error("the provider did not answer in time")]
    Timeout,
}

/// A card provider. `attempt` is the how-manieth authorization attempt for this order (from
/// the payments table, so it survives restarts); real providers ignore it, the simulated one
/// uses it for `tok_flaky`.
pub trait CardProvider: Send + Sync {
    fn authorize(
        &self,
        card_token: &str,
        amount_cents: i64,
        currency: &str,
        attempt: u32,
    ) -> impl Future<Output = Result<String, ProviderError>> + Send;
}
