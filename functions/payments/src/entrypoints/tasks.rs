//! Payments' tasks of the place-order saga (run by `payments-tasks`). Error types are what the
//! state machine matches: `PaymentDeclined` (business, caught), `PaymentTimeout` (transient,
//! retried with backoff), `PaymentClosed`, `InvalidTask`, `PaymentsUnavailable` (retried).

use serde::Deserialize;
use serde_json::{Value, json};

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

#[derive(Debug, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct TaskError {
    pub error_type: &'static str,
    pub message: String,
}

impl From<PaymentError> for TaskError {
    fn from(error: PaymentError) -> Self {
        let error_type = match &error {
            PaymentError::Declined => "PaymentDeclined",
            PaymentError::Timeout => "PaymentTimeout",
            PaymentError::Closed => "PaymentClosed",
            PaymentError::Invalid(_) => "InvalidTask",
            PaymentError::Table(_) => "PaymentsUnavailable",
        };
        Self {
            error_type,
            message: error.to_string(),
        }
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
