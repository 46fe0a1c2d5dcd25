//! Lambda, locally: our functions run as the same binaries that deploy, speaking the Lambda
//! Runtime API to devstack.
//!
//! - [`runtime_api`]: the Runtime API one function process talks to;
//! - [`pool`]: a function's processes: started on demand up to a concurrency limit, restarted
//!   after a crash, killed on timeout;
//! - [`invoke`]: the Invoke API used by the edge, the gateway and the event sources;
//! - [`versions`]: `$LATEST`, published versions and aliases, which deploys change;
//! - [`reload`]: `devstack run` takes a rebuilt binary for the next invocations.

pub mod destination;
pub mod invoke;
pub mod pool;
pub mod reload;
pub mod runtime_api;
pub mod versions;

pub use invoke::{AsyncContext, InvocationType, Lambda, split_reference};
pub use pool::{AsyncInvokeSpec, FunctionPool, FunctionSpec};

use bytes::Bytes;

/// What one invocation ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler's response payload.
    Success(Bytes),
    /// The handler failed, timed out or its process died. `body` is the error document
    /// (`{"errorType", "errorMessage"}`) the Invoke API returns with `X-Amz-Function-Error`.
    Error { error_type: String, body: Bytes },
}

impl Outcome {
    pub fn error(error_type: &str, message: &str) -> Self {
        Self::Error {
            error_type: error_type.to_owned(),
            body: Bytes::from(
                serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string(),
            ),
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success(_))
    }
}
