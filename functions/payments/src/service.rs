//! The payments use cases: authorize, void, refund; each idempotent per order. The order's id
//! is also the idempotency key of every call to the card provider, so the provider's books
//! and ours cannot drift apart by a retry.

use shop_observability::{
    Metrics,
    metric_names::{COMPENSATIONS, PAYMENTS_DECLINED, STEP},
};

use crate::{
    adapters::{PaymentsTable, StoreError},
    domain::{Payment, PaymentStatus},
    ports::{CardProvider, LedgerEntry, ProviderError},
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
    /// The provider would not void or refund what payments recorded as held.
    #[error("the card provider refused")]
    Refused(#[source] ProviderError),
    #[error("the card provider is unavailable")]
    ProviderUnavailable(#[source] ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ProviderError> for PaymentError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Declined => Self::Declined,
            ProviderError::Timeout => Self::Timeout,
            ProviderError::Refused(_) => Self::Refused(error),
            ProviderError::Unavailable(_) => Self::ProviderUnavailable(error),
        }
    }
}

/// How often closing a payment is tried again after another request changed it first.
const MAX_ATTEMPTS: u32 = 3;

/// Voiding or refunding: the two ways a payment closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Void,
    Refund,
}

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
            // Closed first: a void of a payment that never existed records no amount, and a
            // late authorization must hear that the payment is closed, not that it is invalid.
            if matches!(
                existing.status,
                PaymentStatus::Voided | PaymentStatus::Refunded
            ) {
                return Err(PaymentError::Closed);
            }
            if existing.amount_cents != amount_cents || existing.currency != currency {
                return Err(PaymentError::Invalid(format!(
                    "the order's payment is for {} {}",
                    existing.amount_cents, existing.currency
                )));
            }
            if existing.status != PaymentStatus::Pending {
                return answered(existing);
            }
        }
        let pending = self
            .table
            .record_attempt(order_id, amount_cents, currency)
            .await?;
        if pending.status != PaymentStatus::Pending {
            // Decided (or voided) since it was read: nothing may reach the provider now.
            return answered(pending);
        }
        let next = match self
            .provider
            .authorize(order_id, card_token, amount_cents, currency)
            .await
        {
            Ok(authorization_id) => Payment {
                status: PaymentStatus::Authorized,
                authorization_id: Some(authorization_id),
                ..pending.clone()
            },
            Err(ProviderError::Declined) => Payment {
                status: PaymentStatus::Declined,
                ..pending.clone()
            },
            Err(error) => {
                tracing::warn!(order_id, attempt = pending.attempts, error = %error, "card provider did not answer");
                return Err(error.into());
            }
        };
        if self
            .table
            .replace(&next, Some(PaymentStatus::Pending))
            .await?
        {
            tracing::info!(order_id, status = ?next.status, attempt = next.attempts, "authorization answered");
            // Counted once, by the call that stored the decline: a repeated authorization
            // answers from the stored payment above and never gets here.
            if next.status == PaymentStatus::Declined {
                Metrics::new(crate::SERVICE)
                    .property("order_id", order_id)
                    .count(PAYMENTS_DECLINED.name, 1)
                    .emit();
            }
            return answered(next);
        }
        // Another request changed the payment while the provider answered.
        let current =
            self.table.get(order_id).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("the payment of {order_id} vanished"))
            })?;
        if matches!(
            current.status,
            PaymentStatus::Voided | PaymentStatus::Refunded
        ) {
            // The void may have run before the provider placed this hold; release it now, or
            // the customer's money stays held for a rejected order.
            self.provider.void(order_id).await?;
        }
        answered(current)
    }

    /// Releases the order's authorization. Voiding a payment that does not exist records a
    /// voided one, so a late authorization cannot succeed; voiding twice changes nothing.
    pub async fn void(&self, order_id: &str) -> Result<Option<Payment>, PaymentError> {
        self.close(order_id, Closing::Void).await
    }

    /// Gives the authorized amount back in full; a refund of nothing is a successful no-op.
    pub async fn refund(&self, order_id: &str) -> Result<Option<Payment>, PaymentError> {
        self.close(order_id, Closing::Refund).await
    }

    /// What the card provider holds for the order, from its own books.
    pub async fn provider_ledger(
        &self,
        order_id: &str,
    ) -> Result<Option<LedgerEntry>, PaymentError> {
        self.provider
            .ledger(order_id)
            .await
            .map_err(PaymentError::ProviderUnavailable)
    }

    async fn close(
        &self,
        order_id: &str,
        closing: Closing,
    ) -> Result<Option<Payment>, PaymentError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.table.get(order_id).await? else {
                if closing == Closing::Refund {
                    return Ok(None);
                }
                // Nothing was asked of the provider (an attempt is recorded before the
                // provider is called), so there is nothing to release.
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
            let next = match closing {
                Closing::Void => current.voided(),
                Closing::Refund => current.refunded(),
            };
            let Some(next) = next else {
                return Ok(Some(current));
            };
            // The provider first: a payment recorded closed while the provider still holds the
            // money would never be looked at again, whereas a provider call repeated after a
            // lost race changes nothing (same key).
            match closing {
                Closing::Void => self.provider.void(order_id).await?,
                Closing::Refund => {
                    self.provider
                        .refund(order_id, current.amount_cents, &current.currency)
                        .await?;
                }
            }
            if self.table.replace(&next, Some(current.status)).await? {
                tracing::info!(order_id, from = ?current.status, to = ?next.status, "payment closed");
                // A void is only ever the saga's VoidPayment step, and this is the one call
                // that released a hold; a void that found nothing held (no payment, a decline,
                // voided before) returned above. A refund belongs to a cancellation.
                if closing == Closing::Void {
                    Metrics::new(crate::SERVICE)
                        .dimension(STEP, "VoidPayment")
                        .property("order_id", order_id)
                        .count(COMPENSATIONS.name, 1)
                        .emit();
                }
                return Ok(Some(next));
            }
        }
        Err(PaymentError::Contended)
    }
}

/// The answer a decided payment gives to an authorization.
fn answered(payment: Payment) -> Result<Payment, PaymentError> {
    match payment.status {
        PaymentStatus::Authorized => Ok(payment),
        PaymentStatus::Declined => Err(PaymentError::Declined),
        PaymentStatus::Voided | PaymentStatus::Refunded => Err(PaymentError::Closed),
        PaymentStatus::Pending => Err(PaymentError::Contended),
    }
}
