//! One place that turns the process environment into AWS SDK configuration and function
//! settings, and the DynamoDB glue every service needs ([`dynamo`]).
//!
//! In Lambda the region and credentials come from the runtime's environment. Against an
//! emulator (moto, devstack, LocalStack) `AWS_ENDPOINT_URL` points every client at it; the
//! SDK reads that variable itself, so the same binary runs in both places unchanged.

pub mod dynamo;
pub mod settings;

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::{
    Builder,
    tls::{self, rustls_provider::CryptoMode},
};

pub use settings::{ConfigError, MissingSetting, Stage, required_env};

/// Loads the shared SDK configuration from the environment.
pub async fn load() -> SdkConfig {
    loader().load().await
}

/// The loader behind [`load`], for callers (tests, tools) that override some settings.
///
/// The HTTPS client is chosen explicitly (rustls with the `ring` provider) because the SDK's
/// default one pulls in aws-lc-sys, a long C build that buys nothing here.
pub fn loader() -> ConfigLoader {
    let http_client = Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client)
}

/// Whether a conditional write took place: `Ok(true)` when it did, `Ok(false)` when its
/// condition did not hold (DynamoDB's `ConditionalCheckFailedException`), other failures as
/// they are. Conditional writes are how the services stay idempotent and race-free, and a
/// failed condition is an answer, not an error.
pub fn condition_held<T, E, R>(
    result: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
) -> Result<bool, aws_smithy_runtime_api::client::result::SdkError<E, R>>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    match result {
        Ok(_) => Ok(true),
        Err(error)
            if error.as_service_error().and_then(|e| e.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// An error and its sources as one line (`outer: inner: root`). The SDK's errors say what the
/// service answered only in their sources, and a source chain is not walked where the text
/// goes (a log field, a task's error message, a terminal).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::{
        operation::put_item::PutItemError,
        types::error::{ConditionalCheckFailedException, ResourceNotFoundException},
    };
    use aws_smithy_runtime_api::{
        client::result::SdkError,
        http::{Response, StatusCode},
    };
    use aws_smithy_types::{body::SdkBody, error::ErrorMetadata};

    use super::{condition_held, error_chain};

    // The SDK's own result type, as adapters get it.
    #[allow(clippy::result_large_err)]
    fn failed(error: PutItemError) -> Result<(), SdkError<PutItemError, Response>> {
        let response = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        Err(SdkError::service_error(error, response))
    }

    #[test]
    fn a_write_that_happened_held_its_condition() {
        assert!(condition_held::<_, PutItemError, Response>(Ok(())).unwrap());
    }

    #[test]
    fn a_failed_condition_is_an_answer_not_an_error() {
        // As the SDK builds it from DynamoDB's answer: the code comes with the metadata.
        let meta = ErrorMetadata::builder()
            .code("ConditionalCheckFailedException")
            .build();
        let error = PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .message("no")
                .meta(meta)
                .build(),
        );
        assert!(!condition_held(failed(error)).unwrap());
    }

    #[test]
    fn other_failures_stay_errors() {
        let error = PutItemError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("no table")
                .build(),
        );
        assert!(condition_held(failed(error)).is_err());
    }

    #[test]
    fn an_error_chain_reads_outer_to_root() {
        #[derive(Debug, thiserror::Error)]
        #[error("provisioning failed")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("the table exists"));
        assert_eq!(error_chain(&error), "provisioning failed: the table exists");
    }
}
