//! Deep health: `GET /<service>/health` says whether the service can serve right now, not only
//! that its function runs. Each service names its checks (a table answers, the user pool
//! exists); they run at once, each bounded by [`CHECK_TIMEOUT`], so a hung dependency makes the
//! answer a 503 within seconds instead of holding the caller until the function times out.
//!
//! The route is public, so the answer names the checks and their outcome only: why a check
//! failed (the SDK's error, with table names and ARNs) goes to the log.

use std::{collections::BTreeMap, error::Error, future::Future, pin::Pin, time::Duration};

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// How long one check may take. API Gateway gives an integration 30 s; a health probe (the
/// canary, a load balancer) wants its answer in a few, and a dependency that needs longer than
/// this to describe itself is not serving either.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

type Probe<'a> =
    Pin<Box<dyn Future<Output = Result<(), Box<dyn Error + Send + Sync>>> + Send + 'a>>;

/// One named check of a dependency: a cheap read that fails when the dependency cannot serve
/// (`DescribeTable`, `DescribeUserPool`).
pub struct Check<'a> {
    name: &'static str,
    probe: Probe<'a>,
}

impl std::fmt::Debug for Check<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

impl<'a> Check<'a> {
    /// `name` is what the answer calls the check (`products_table`, `user_pool`).
    pub fn new<E>(
        name: &'static str,
        probe: impl Future<Output = Result<(), E>> + Send + 'a,
    ) -> Self
    where
        E: Error + Send + Sync + 'static,
    {
        Self {
            name,
            probe: Box::pin(async move { probe.await.map_err(Into::into) }),
        }
    }
}

/// Whether the service can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Every check passed: 200.
    Ok,
    /// A check failed or timed out: 503.
    Unavailable,
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    /// The dependency answered with an error (it is missing, or the role may not read it).
    Failed,
    /// No answer within the check's timeout.
    TimedOut,
}

/// The answer of every `GET /<service>/health`: 200 when every check passed, 503 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: HealthStatus,
    #[schema(example = "catalog")]
    pub service: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Each check by name, e.g. `{"product_tables": "ok"}`.
    #[schema(example = json!({"product_tables": "ok"}))]
    pub checks: BTreeMap<&'static str, CheckStatus>,
}

impl Health {
    /// Runs `checks` at once, each within [`CHECK_TIMEOUT`].
    pub async fn check(
        service: &'static str,
        version: &'static str,
        checks: impl IntoIterator<Item = Check<'_>>,
    ) -> Self {
        Self::check_within(CHECK_TIMEOUT, service, version, checks).await
    }

    /// [`Health::check`] with another timeout per check.
    pub async fn check_within(
        timeout: Duration,
        service: &'static str,
        version: &'static str,
        checks: impl IntoIterator<Item = Check<'_>>,
    ) -> Self {
        let runs = checks.into_iter().map(|check| async move {
            let outcome = match tokio::time::timeout(timeout, check.probe).await {
                Ok(Ok(())) => CheckStatus::Ok,
                Ok(Err(error)) => {
                    tracing::warn!(check = check.name, error = %chain(error.as_ref()), "health check failed");
                    CheckStatus::Failed
                }
                Err(_) => {
                    tracing::warn!(
                        check = check.name,
                        timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                        "health check timed out"
                    );
                    CheckStatus::TimedOut
                }
            };
            (check.name, outcome)
        });
        let checks: BTreeMap<_, _> = futures::future::join_all(runs).await.into_iter().collect();
        let status = if checks.values().all(|outcome| *outcome == CheckStatus::Ok) {
            HealthStatus::Ok
        } else {
            HealthStatus::Unavailable
        };
        Self {
            status,
            service,
            version,
            checks,
        }
    }
}

impl IntoResponse for Health {
    fn into_response(self) -> Response {
        let code = match self.status {
            HealthStatus::Ok => StatusCode::OK,
            HealthStatus::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        (code, Json(self)).into_response()
    }
}

/// An error and its sources as one line: the SDK says what the service answered only in them.
fn chain(error: &(dyn Error + 'static)) -> String {
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
    use std::io;

    use http_body_util::BodyExt;

    use super::*;

    fn passes() -> std::future::Ready<Result<(), io::Error>> {
        std::future::ready(Ok(()))
    }

    fn fails(why: &'static str) -> std::future::Ready<Result<(), io::Error>> {
        std::future::ready(Err(io::Error::other(why)))
    }

    async fn answer(health: Health) -> (StatusCode, serde_json::Value) {
        let response = health.into_response();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn every_check_passing_is_a_200_naming_each_check() {
        let health = Health::check(
            "catalog",
            "1.0.0",
            [
                Check::new("products_table", passes()),
                Check::new("skus_table", passes()),
            ],
        )
        .await;
        let (status, body) = answer(health).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            serde_json::json!({
                "status": "ok", "service": "catalog", "version": "1.0.0",
                "checks": {"products_table": "ok", "skus_table": "ok"}
            })
        );
    }

    #[tokio::test]
    async fn one_failed_check_is_a_503_naming_it_without_the_error() {
        let secret = "arn:aws:dynamodb:us-east-1:123456789012:table/products not found";
        let health = Health::check(
            "catalog",
            "1.0.0",
            [
                Check::new("products_table", fails(secret)),
                Check::new("skus_table", passes()),
            ],
        )
        .await;
        let (status, body) = answer(health).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["checks"]["products_table"], "failed");
        assert_eq!(body["checks"]["skus_table"], "ok");
        assert!(!body.to_string().contains("arn:"), "{body}");
    }

    #[tokio::test]
    async fn a_check_that_does_not_answer_times_out_while_the_others_finish() {
        let started = std::time::Instant::now();
        let health = Health::check_within(
            Duration::from_millis(50),
            "orders",
            "1.0.0",
            [
                Check::new("hangs", std::future::pending::<Result<(), io::Error>>()),
                Check::new("answers", passes()),
            ],
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(health.status, HealthStatus::Unavailable);
        assert_eq!(health.checks["hangs"], CheckStatus::TimedOut);
        assert_eq!(health.checks["answers"], CheckStatus::Ok);
    }

    #[tokio::test]
    async fn checks_run_at_once_not_one_after_another() {
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok::<(), io::Error>(())
        };
        let started = std::time::Instant::now();
        let health = Health::check(
            "auth",
            "1.0.0",
            [
                Check::new("a", slow()),
                Check::new("b", slow()),
                Check::new("c", slow()),
            ],
        )
        .await;
        assert_eq!(health.status, HealthStatus::Ok);
        assert!(
            started.elapsed() < Duration::from_millis(800),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn an_error_chain_reads_outer_to_root() {
        #[derive(Debug, thiserror::Error)]
        #[error("DynamoDB request failed")]
        struct Outer(#[source] io::Error);
        let error = Outer(io::Error::other("ResourceNotFoundException"));
        assert_eq!(
            chain(&error),
            "DynamoDB request failed: ResourceNotFoundException"
        );
    }
}
