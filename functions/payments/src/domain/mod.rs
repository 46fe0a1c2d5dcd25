//! A payment's states and the rules between them. No I/O here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Authorization attempted, no answer yet (timeouts, passing failures).
    Pending,
    Authorized,
    Declined,
    /// The authorization was released; nothing was or will be captured.
    Voided,
    Refunded,
}

/// One order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub order_id: String,
    pub status: PaymentStatus,
    pub amount_cents: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
    /// Authorization attempts so far.
    pub attempts: u32,
    /// Refunded amount: never more than the authorized `amount_cents`.
    pub refunded_cents: i64,
}

impl Payment {
    /// The payment after voiding: an authorization is released; a pending one (no answer yet)
    /// is voided too, so a late authorization cannot succeed afterwards. Declined, refunded or
    /// already voided payments hold nothing and stay as they are.
    pub fn voided(&self) -> Option<Self> {
        matches!(
            self.status,
            PaymentStatus::Pending | PaymentStatus::Authorized
        )
        .then(|| Self {
            status: PaymentStatus::Voided,
            ..self.clone()
        })
    }

    /// The payment after refunding it in full; only an authorized payment has anything to give
    /// back.
    pub fn refunded(&self) -> Option<Self> {
        (self.status == PaymentStatus::Authorized).then(|| Self {
            status: PaymentStatus::Refunded,
            refunded_cents: self.amount_cents,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            order_id: "o-1".into(),
            status,
            amount_cents: 2500,
            currency: "EUR".into(),
            authorization_id: Some("auth-1".into()),
            attempts: 1,
            refunded_cents: 0,
        }
    }

    #[test]
    fn only_authorized_payments_are_refunded_and_in_full() {
        let refunded = payment(PaymentStatus::Authorized).refunded().unwrap();
        assert_eq!(
            (refunded.status, refunded.refunded_cents),
            (PaymentStatus::Refunded, 2500)
        );
        for status in [
            PaymentStatus::Pending,
            PaymentStatus::Declined,
            PaymentStatus::Voided,
            PaymentStatus::Refunded,
        ] {
            assert!(payment(status).refunded().is_none(), "{status:?}");
        }
    }

    #[test]
    fn voiding_releases_open_payments_and_leaves_finished_ones() {
        for status in [PaymentStatus::Pending, PaymentStatus::Authorized] {
            assert_eq!(
                payment(status).voided().unwrap().status,
                PaymentStatus::Voided
            );
        }
        for status in [
            PaymentStatus::Declined,
            PaymentStatus::Voided,
            PaymentStatus::Refunded,
        ] {
            assert!(payment(status).voided().is_none(), "{status:?}");
        }
    }
}
