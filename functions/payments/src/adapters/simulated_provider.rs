//! A card provider for development and tests, driven by test tokens:
//!
//! | token | behaviour |
//! |---|---|
//! | `tok_visa` | approves |
//! | `tok_declined` (or any unknown token) | declines |
//! | `tok_timeout` | never answers in time: waits, then times out |
//! | `tok_flaky` | times out on the first attempt for an order, approves after |

use std::time::Duration;

use crate::ports::{CardProvider, ProviderError};

#[derive(Debug, Clone)]
pub struct SimulatedProvider {
    /// How long `tok_timeout` keeps the caller waiting before timing out.
    pub timeout: Duration,
}

impl CardProvider for SimulatedProvider {
    async fn authorize(
        &self,
        card_token: &str,
        _amount_cents: i64,
        _currency: &str,
        attempt: u32,
    ) -> Result<String, ProviderError> {
        match card_token {
            "tok_timeout" => {
                tokio::time::sleep(self.timeout).await;
                Err(ProviderError::Timeout)
            }
            "tok_flaky" if attempt <= 1 => Err(ProviderError::Timeout),
            "tok_visa" | "tok_flaky" => Ok(format!("auth_{}", uuid::Uuid::new_v4().simple())),
            _ => Err(ProviderError::Declined),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: SimulatedProvider = SimulatedProvider {
        timeout: Duration::from_millis(1),
    };

    #[tokio::test]
    async fn each_test_token_behaves_as_documented() {
        assert!(PROVIDER.authorize("tok_visa", 100, "EUR", 1).await.is_ok());
        assert_eq!(
            PROVIDER.authorize("tok_declined", 100, "EUR", 1).await,
            Err(ProviderError::Declined)
        );
        assert_eq!(
            PROVIDER.authorize("tok_unknown", 100, "EUR", 1).await,
            Err(ProviderError::Declined)
        );
        assert_eq!(
            PROVIDER.authorize("tok_timeout", 100, "EUR", 5).await,
            Err(ProviderError::Timeout)
        );
        assert_eq!(
            PROVIDER.authorize("tok_flaky", 100, "EUR", 1).await,
            Err(ProviderError::Timeout)
        );
        assert!(PROVIDER.authorize("tok_flaky", 100, "EUR", 2).await.is_ok());
    }
}
