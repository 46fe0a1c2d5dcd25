//! DynamoDB glue that is the same for every service: opening the connection at init, keeping
//! the SDK's error as a source, the error of a service's table, and reading why a transaction
//! was cancelled. A service adapter holds only its own key design.

use aws_sdk_dynamodb::{
    Client, error::SdkError, operation::transact_write_items::TransactWriteItemsError,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A DynamoDB call that failed. The SDK's error stays the source (code, message, request id),
/// so logs keep what DynamoDB said while no caller can match on its text.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB request failed")]
pub struct DynamoError(#[source] Box<aws_sdk_dynamodb::Error>);

impl DynamoError {
    /// DynamoDB's error code, e.g. `ResourceNotFoundException`.
    pub fn code(&self) -> Option<&str> {
        self.0.code()
    }
}

impl<E, R> From<SdkError<E, R>> for DynamoError
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        Self(Box::new(error.into()))
    }
}

/// A failure of a service's own table: DynamoDB's, or an item that does not read as the
/// service wrote it. A store with answers of its own (a SKU taken) has its own error instead.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Dynamo(#[from] DynamoError),
    /// An item that does not deserialise as the service's record type.
    #[error("a stored item cannot be read")]
    Unreadable(#[from] serde_dynamo::Error),
    /// An attribute holding JSON text that does not parse.
    #[error("a stored item's JSON cannot be read")]
    UnreadableJson(#[from] serde_json::Error),
    /// An item that reads but breaks what the service always writes (a missing attribute, an
    /// order without its first event).
    #[error("a stored item is not as it was written: {0}")]
    Corrupt(String),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(error.into())
    }
}

/// Checks that a table exists, which also opens the connection to DynamoDB during the
/// function's init phase instead of on its first request, and stops a function pointed at a
/// wrong table before it takes any traffic.
pub async fn connect(client: &Client, table: &str) -> Result<(), DynamoError> {
    client.describe_table().table_name(table).send().await?;
    Ok(())
}

/// Why a `TransactWriteItems` did not commit. Nothing of a cancelled transaction is written.
#[derive(Debug, thiserror::Error)]
pub enum TransactionError {
    /// The conditions of these items (their indexes in the request) did not hold: an answer
    /// about the stored state, for the caller to interpret.
    #[error("the conditions of items {0:?} did not hold")]
    ConditionsFailed(Vec<usize>),
    /// Another request wrote one of the items while the transaction ran
    /// (`TransactionConflict`). Nothing was refused: deciding again on fresh state may
    /// succeed, so callers retry or answer "conflict", never "internal error".
    #[error("another request wrote the same items at the same time")]
    Conflict,
    #[error(transparent)]
    Dynamo(#[from] DynamoError),
}

/// Classifies the result of a `TransactWriteItems` call.
///
/// DynamoDB cancels a transaction with one reason per item, in request order
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>).
/// A failed condition wins over a conflict on another item: it is a definite answer, while
/// the conflict only says the transaction ran at a busy moment.
pub fn classify_transaction<T, R>(
    result: Result<T, SdkError<TransactWriteItemsError, R>>,
) -> Result<T, TransactionError>
where
    aws_sdk_dynamodb::Error: From<SdkError<TransactWriteItemsError, R>>,
{
    let error = match result {
        Ok(output) => return Ok(output),
        Err(error) => error,
    };
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        error.as_service_error()
    {
        let codes: Vec<Option<&str>> = cancelled
            .cancellation_reasons()
            .iter()
            .map(|reason| reason.code())
            .collect();
        let failed: Vec<usize> = codes
            .iter()
            .enumerate()
            .filter(|(_, code)| **code == Some("ConditionalCheckFailed"))
            .map(|(index, _)| index)
            .collect();
        if !failed.is_empty() {
            return Err(TransactionError::ConditionsFailed(failed));
        }
        if codes.contains(&Some("TransactionConflict")) {
            return Err(TransactionError::Conflict);
        }
    }
    Err(TransactionError::Dynamo(error.into()))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::{
        CancellationReason,
        error::{InternalServerError, TransactionCanceledException},
    };
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::{body::SdkBody, error::ErrorMetadata};

    use super::*;

    /// A cancelled transaction as the SDK builds it from DynamoDB's answer: one reason per
    /// item, `None` for the items that were fine.
    #[allow(clippy::result_large_err)]
    fn cancelled(codes: &[&str]) -> Result<(), SdkError<TransactWriteItemsError, Response>> {
        let reasons = codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect();
        let error = TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .message("Transaction cancelled")
                .set_cancellation_reasons(Some(reasons))
                .meta(
                    ErrorMetadata::builder()
                        .code("TransactionCanceledException")
                        .build(),
                )
                .build(),
        );
        let response = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        Err(SdkError::service_error(error, response))
    }

    #[test]
    fn a_committed_transaction_passes_its_output_through() {
        assert_eq!(
            classify_transaction::<_, Response>(Ok(7)).unwrap(),
            7,
            "the output is the caller's"
        );
    }

    #[test]
    fn failed_conditions_are_named_by_their_item_index() {
        let error = classify_transaction(cancelled(&["None", "ConditionalCheckFailed", "None"]))
            .unwrap_err();
        assert!(matches!(error, TransactionError::ConditionsFailed(ref items) if items == &[1]));
    }

    #[test]
    fn a_transaction_conflict_is_a_conflict_not_a_failure() {
        let error = classify_transaction(cancelled(&["TransactionConflict", "None"])).unwrap_err();
        assert!(matches!(error, TransactionError::Conflict), "{error:?}");
    }

    #[test]
    fn a_failed_condition_outweighs_a_conflict_on_another_item() {
        let error = classify_transaction(cancelled(&[
            "TransactionConflict",
            "ConditionalCheckFailed",
        ]))
        .unwrap_err();
        assert!(matches!(error, TransactionError::ConditionsFailed(ref items) if items == &[1]));
    }

    #[test]
    fn other_cancellations_and_errors_stay_failures_with_their_source() {
        let throttled = classify_transaction(cancelled(&["ThrottlingError"])).unwrap_err();
        assert!(matches!(throttled, TransactionError::Dynamo(_)));

        let internal = TransactWriteItemsError::InternalServerError(
            InternalServerError::builder()
                .message("boom")
                .meta(ErrorMetadata::builder().code("InternalServerError").build())
                .build(),
        );
        let response = Response::new(StatusCode::try_from(500).unwrap(), SdkBody::empty());
        let error = classify_transaction::<(), _>(Err(SdkError::service_error(internal, response)))
            .unwrap_err();
        let TransactionError::Dynamo(dynamo) = error else {
            panic!("{error:?}");
        };
        assert_eq!(dynamo.code(), Some("InternalServerError"));
        let source = std::error::Error::source(&dynamo).expect("the SDK error is kept");
        assert!(source.to_string().contains("boom"), "{source}");
    }
}
