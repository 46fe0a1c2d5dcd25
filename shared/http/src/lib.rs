//! HTTP plumbing every service's router uses: problem+json errors, the caller's identity from
//! API Gateway's JWT authorizer, JSON bodies and query strings with clear 4xx errors, opaque
//! pagination cursors, and the deep health answer.

pub mod body;
pub mod health;
pub mod identity;
pub mod openapi;
pub mod pagination;
pub mod problem;

pub use body::{JsonBody, MAX_BODY_BYTES, QueryParams};
pub use health::{Check, Health, HealthStatus};
pub use identity::{Admin, Caller};
pub use openapi::{BearerAuth, JsonBodyRejections, Unauthenticated};
pub use pagination::{Page, PageRequest};
pub use problem::{FieldError, Problem};

use axum::{Router, extract::DefaultBodyLimit};
use shop_observability::AccessLog;

/// Wraps a service's routes with what every service needs: the body size limit, the access
/// log (which also echoes the correlation id) and a problem+json 404 for unknown paths.
/// `access_log` is the service's name, or an `AccessLog` declaring the body fields each route
/// may log; a bare name logs none.
pub fn service_router(routes: Router, access_log: impl Into<AccessLog>) -> Router {
    routes
        .fallback(|| async { Problem::not_found("no such resource") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            access_log.into(),
            shop_observability::access_log,
        ))
}
