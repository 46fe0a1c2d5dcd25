//! Payments' tasks of the place-order saga (run by `payments-tasks`). Error types are what the
//! state machine matches: `PaymentDeclined` (business, caught), `PaymentTimeout` (transient,
//! retried with backoff), `PaymentClosed`, `InvalidTask`, `PaymentRefused` (the provider would
//! not void or refund what payments recorded), `CardTokenUnreadable` (the sealed token does
//! not open for this order; caught, never retried), `PaymentsUnavailable` (retried).
//!
//! `AuthorizePayment` gets the card token sealed, as orders stored it; it is opened here, just
//! before the authorization, and lives in clear only in this invocation's memory.

use serde::Deserialize;
use serde_json::{Value, json};
use shop_events::TaskError;

use crate::{
    adapters::{CardTokenOpener, OpenError},
    ports::CardProvider,
    service::{PaymentError, Payments},
};

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    AuthorizePayment {
        order_id: String,
        /// The card token as orders sealed it for this order (KMS ciphertext, base64).
        card_token_ciphertext: String,
        amount_cents: i64,
        currency: String,
    },
    VoidPayment {
        order_id: String,
    },
    RefundPayment {
        order_id: String,
    },
}

impl From<PaymentError> for TaskError {
    fn from(error: PaymentError) -> Self {
        let error_type = match &error {
            PaymentError::Declined => "PaymentDeclined",
            PaymentError::Timeout => "PaymentTimeout",
            PaymentError::Closed => "PaymentClosed",
            PaymentError::Invalid(_) => "InvalidTask",
            PaymentError::Refused(_) => "PaymentRefused",
            PaymentError::Contended
            | PaymentError::ProviderUnavailable(_)
            | PaymentError::Store(_) => "PaymentsUnavailable",
        };
        TaskError::new(error_type, &error)
    }
}

impl From<OpenError> for TaskError {
    fn from(error: OpenError) -> Self {
        let error_type = match &error {
            OpenError::Unreadable(_) => "CardTokenUnreadable",
            OpenError::Kms(_) => "PaymentsUnavailable",
        };
        TaskError::new(error_type, &error)
    }
}

pub async fn run<P: CardProvider>(
    payments: &Payments<P>,
    card_tokens: &CardTokenOpener,
    task: Task,
) -> Result<Value, TaskError> {
    let payment = match task {
        Task::AuthorizePayment {
            order_id,
            card_token_ciphertext,
            amount_cents,
            currency,
        } => {
            let card_token = card_tokens.open(&order_id, &card_token_ciphertext).await?;
            Some(
                payments
                    .authorize(&order_id, &card_token, amount_cents, &currency)
                    .await?,
            )
        }
        Task::VoidPayment { order_id } => payments.void(&order_id).await?,
        Task::RefundPayment { order_id } => payments.refund(&order_id).await?,
    };
    Ok(json!({ "payment": payment }))
}
