//! Saga task functions: what Step Functions invokes, and how a task's failure reaches the
//! state machine.
//!
//! A failed task answers with a Lambda error type that names the failure (`OutOfStock`,
//! `PaymentDeclined`, `ConcurrentModification`, ...), so the state machine's `Catch` and
//! `Retry` route on types, never on message text. Each service maps its own errors to the
//! types its part of the state machine matches.

use std::{error::Error, future::Future};

use lambda_runtime::{Context, Diagnostic, LambdaEvent, service_fn};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A task's failure: `error_type` is the Lambda error type the state machine matches on.
#[derive(Debug, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct TaskError {
    pub error_type: &'static str,
    pub message: String,
}

impl TaskError {
    /// A failure of type `error_type` caused by `cause`; the message keeps the cause's whole
    /// chain, since the execution history is where an operator reads it.
    pub fn new(error_type: &'static str, cause: &dyn Error) -> Self {
        Self {
            error_type,
            message: crate::error_chain(cause),
        }
    }
}

impl From<TaskError> for Diagnostic {
    fn from(error: TaskError) -> Self {
        Self {
            error_type: error.error_type.to_owned(),
            error_message: error.message,
        }
    }
}

/// The Lambda runtime loop of a task function: each invocation's payload is read as `T` and
/// handed to `handler` with the invocation's context (whose request id is a good causation
/// id); a [`TaskError`] is logged and answered with its error type.
pub async fn run<T, H, F>(handler: H) -> Result<(), lambda_runtime::Error>
where
    T: DeserializeOwned,
    H: Fn(T, Context) -> F,
    F: Future<Output = Result<Value, TaskError>>,
{
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<T>| async move {
        handler(event.payload, event.context)
            .await
            .map_err(|error| {
                tracing::warn!(error_type = error.error_type, message = %error.message, "task failed");
                Diagnostic::from(error)
            })
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the store failed")]
    struct StoreFailed(#[source] std::io::Error);

    #[test]
    fn the_error_type_is_what_the_state_machine_sees_and_the_message_keeps_the_cause() {
        let cause = StoreFailed(std::io::Error::other("connection reset"));
        let diagnostic = Diagnostic::from(TaskError::new("InventoryUnavailable", &cause));
        assert_eq!(diagnostic.error_type, "InventoryUnavailable");
        assert_eq!(
            diagnostic.error_message,
            "the store failed: connection reset"
        );
    }
}
