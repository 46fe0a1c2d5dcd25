//! Payments' tasks of the place-order saga (run by `payments-tasks`). Error types are what the
//! state machine matches: `PaymentDeclined` (business, caught), `PaymentTimeout` (transient,
//! retried with backoff), `PaymentClosed`, `InvalidTask`, `PaymentRefused` (the provider would
//! not void or refund what payments recorded), `PaymentsUnavailable` (retried).

use serde::Deserialize;
use serde_json::{Value, json};
use shop_events::TaskError;

use crate::{
    ports::CardProvider,
    service::{PaymentError, Payments},
};

#[derive(Debug, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    AuthorizePayment {
        order_id: String,
        card_token: String,
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

pub async fn run<P: CardProvider>(payments: &Payments<P>, task: Task) -> Result<Value, TaskError> {
    let payment = match task {
        Task::AuthorizePayment {
            order_id,
            card_token,
            amount_cents,
            currency,
        } => Some(
            payments
                .authorize(&order_id, &card_token, amount_cents, &currency)
                .await?,
        ),
        Task::VoidPayment { order_id } => payments.void(&order_id).await?,
        Task::RefundPayment { order_id } => payments.refund(&order_id).await?,
    };
    Ok(json!({ "payment": payment }))
}
