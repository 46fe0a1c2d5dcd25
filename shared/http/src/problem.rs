//! Errors as `application/problem+json` (RFC 9457), with the correlation id of the request.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use shop_observability::CorrelationId;
use utoipa::ToSchema;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it, e.g. `price_cents` or `items[2].quantity`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A problem details response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation-error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[schema(value_type = u16)]
    #[serde(serialize_with = "serialize_status")]
    pub status: StatusCode,
    pub detail: String,
    /// The invalid fields, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds after which a throttled client may retry (also sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

// serde hands `serialize_with` functions a reference, whatever the type.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn serialize_status<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{slug}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// A 400 that names every invalid field in `detail` and lists them in `errors`.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "validation-error",
                "Invalid request",
                detail,
            )
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            detail,
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                format!("try again in {retry_after_secs} seconds"),
            )
        }
    }

    /// A 500 whose cause is logged with the correlation id and never sent to the client.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %cause, source = ?cause.source(), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal server error",
            "the request could not be completed; quote the correlation id when reporting it",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::to_value(&self).unwrap_or_default();
        if let Some(id) = CorrelationId::current() {
            body["correlation_id"] = id.as_str().into();
        }
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.title,
            self.detail
        )
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(problem: Problem) -> (Response, serde_json::Value) {
        let response = problem.into_response();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 4096).await.unwrap();
        (
            Response::from_parts(parts, axum::body::Body::empty()),
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_validation_problem_names_every_field() {
        let problem = Problem::validation(vec![
            FieldError::new("sku", "must be 3 to 32 characters"),
            FieldError::new("price_cents", "must be greater than 0"),
        ]);
        let (response, body) = body_of(problem).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], CONTENT_TYPE);
        assert_eq!(body["type"], "/problems/validation-error");
        assert_eq!(body["status"], 400);
        assert!(body["detail"].as_str().unwrap().contains("sku"));
        assert!(body["detail"].as_str().unwrap().contains("price_cents"));
        assert_eq!(body["errors"][1]["field"], "price_cents");
    }

    #[tokio::test]
    async fn the_body_carries_the_current_correlation_id() {
        let id = CorrelationId::parse("corr-1").unwrap();
        let (_, body) = id.scope(body_of(Problem::not_found("gone"))).await;
        assert_eq!(body["correlation_id"], "corr-1");
    }

    #[tokio::test]
    async fn throttling_sets_retry_after() {
        let (response, body) = body_of(Problem::too_many_requests(30)).await;
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "30");
        assert!(body.get("retry_after_secs").is_none());
    }

    #[tokio::test]
    async fn an_internal_error_does_not_leak_its_cause() {
        let cause = std::io::Error::other("table arn:aws:dynamodb:secret-detail");
        let (response, body) = body_of(Problem::internal(&cause)).await;
        assert_eq!(response.status(), 500);
        assert!(!body.to_string().contains("secret-detail"));
    }
}
