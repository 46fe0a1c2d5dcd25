//! The payments use cases: authorize, void, refund; each idempotent per order.

use crate::{
    adapters::{PaymentsTable, StoreError},
    domain::{Payment, PaymentStatus},
    ports::{CardProvider, ProviderError},
};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the card was declined")]
    Declined,
    #[error("the card provider did not answer in time")]
    Timeout,
    #[error("the payment was voided or refunded; it cannot be authorized")]
    Closed,
    #[error("invalid payment request: {0}")]
    Invalid(String),
    #[error("other requests kept changing the payment; retry")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often closing a payment is tried again after another request changed it first.
const MAX_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct Payments<P> {
    pub table: PaymentsTable,
    pub provider: P,
}

impl<P: CardProvider> Payments<P> {
    /// Authorizes the order's amount once. A repeated call answers as the first one did; a
    /// call with another amount is refused, so nothing above the first amount is ever held.
    pub async fn authorize(
        &self,
        order_id: &str,
        card_token: &str,
        amount_cents: i64,
        currency: &str,
    ) -> Result<Payment, PaymentError> {
        if amount_cents <= 0 || card_token.is_empty() {
            return Err(PaymentError::Invalid(
                "a positive amount and a card token are required".into(),
            ));
        }
        if let Some(existing) = self.table.get(order_id).await? {
            if existing.amount_cents != amount_cents || existing.currency != currency {
                return Err(PaymentError::Invalid(format!(
                    "the order's payment is for {} {}",
                    existing.amount_cents, existing.currency
                )));
            }
            match existing.status {
                PaymentStatus::Authorized => return Ok(existing),
                PaymentStatus::Declined => return Err(PaymentError::Declined),
                PaymentStatus::Voided | PaymentStatus::Refunded => {
                    return Err(PaymentError::Closed);
                }
                PaymentStatus::Pending => {}
            }
        }
        let pending = self
            .table
            .record_attempt(order_id, amount_cents, currency)
            .await?;
        let answer = self
            .provider
            .authorize(card_token, amount_cents, currency, pending.attempts)
            .await;
        let (next, outcome) = match answer {
            Ok(authorization_id) => (
                Payment {
                    status: PaymentStatus::Authorized,
                    authorization_id: Some(authorization_id),
                    ..pending.clone()
                },
                Ok(()),
            ),
            Err(ProviderError::Declined) => (
                Payment {
                    status: PaymentStatus::Declined,
                    ..pending.clone()
                },
                Err(PaymentError::Declined),
            ),
            Err(ProviderError::Timeout) => {
                tracing::warn!(
                    order_id,
                    attempt = pending.attempts,
                    "card provider timed out"
                );
                return Err(PaymentError::Timeout);
            }
        };
        // A void that came in meanwhile wins: the authorization is not recorded as usable.
        if !self
            .table
            .replace(&next, Some(PaymentStatus::Pending))
            .await?
        {
            return Err(PaymentError::Closed);
        }
        tracing::info!(order_id, status = ?next.status, attempt = next.attempts, "authorization answered");
        outcome.map(|()| next)
    }

    /// Releases the order's authorization. Voiding a payment that does not exist records a
    /// voided one, so a late authorization cannot succeed; voiding twice changes nothing.
    pub async fn void(&self, order_id: &str) -> Result<Option<Payment>, PaymentError> {
        self.close(order_id, Payment::voided, true).await
    }

    /// Gives the authorized amount back in full; a refund of nothing is a successful no-op.
    pub async fn refund(&self, order_id: &str) -> Result<Option<Payment>, PaymentError> {
        self.close(order_id, Payment::refunded, false).await
    }

    async fn close(
        &self,
        order_id: &str,
        transition: fn(&Payment) -> Option<Payment>,
        tombstone: bool,
    ) -> Result<Option<Payment>, PaymentError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.table.get(order_id).await? else {
                if !tombstone {
                    return Ok(None);
                }
                let voided = Payment {
                    order_id: order_id.to_owned(),
                    status: PaymentStatus::Voided,
                    amount_cents: 0,
                    currency: String::new(),
                    authorization_id: None,
                    attempts: 0,
                    refunded_cents: 0,
                };
                if self.table.replace(&voided, None).await? {
                    return Ok(Some(voided));
                }
                continue;
            };
            let Some(next) = transition(&current) else {
                return Ok(Some(current));
            };
            if self.table.replace(&next, Some(current.status)).await? {
                tracing::info!(order_id, from = ?current.status, to = ?next.status, "payment closed");
                return Ok(Some(next));
            }
        }
        Err(PaymentError::Contended)
    }
}
