//! Request bodies and query strings, with every way they can be wrong mapped to a clear 4xx.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Query, Request, rejection::JsonRejection},
};
use http::{StatusCode, request::Parts};
use serde::de::DeserializeOwned;

use crate::Problem;

/// The largest request body any service accepts. Requests in this shop are small; a cap
/// well below API Gateway's 10 MB keeps a bad client from costing memory and money.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body: 415 without a JSON content type, 413 when too large, 400 for
/// malformed JSON or fields of the wrong shape (serde's message names the field).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

fn json_problem(rejection: &JsonRejection) -> Problem {
    match rejection.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::unsupported_media_type(
            "send the body as JSON with Content-Type: application/json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => Problem::payload_too_large(format!(
            "the request body is larger than {MAX_BODY_BYTES} bytes"
        )),
        _ => Problem::bad_request(format!("invalid JSON body: {}", rejection.body_text())),
    }
}

/// A query string: 400 naming the parameter when one does not parse.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| {
                Problem::bad_request(format!("invalid query string: {}", rejection.body_text()))
            })
    }
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, extract::DefaultBodyLimit, routing::post};
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        #[allow(dead_code)]
        quantity: u32,
    }

    async fn status_and_detail(content_type: Option<&str>, body: String) -> (u16, String) {
        let app = Router::new()
            .route("/", post(|JsonBody(_): JsonBody<Input>| async { "ok" }))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
        let mut request = http::Request::post("/");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = app
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
            .map(|v| v["detail"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (status, detail)
    }

    #[tokio::test]
    async fn malformed_json_is_a_400() {
        let (status, _) =
            status_and_detail(Some("application/json"), "{\"quantity\":".into()).await;
        assert_eq!(status, 400);
    }

    #[tokio::test]
    async fn a_field_of_the_wrong_type_is_a_400_naming_it() {
        let (status, detail) =
            status_and_detail(Some("application/json"), r#"{"quantity":"many"}"#.into()).await;
        assert_eq!(status, 400);
        assert!(detail.contains("quantity"), "{detail}");
    }

    #[tokio::test]
    async fn an_unknown_field_is_a_400_naming_it() {
        let (status, detail) = status_and_detail(
            Some("application/json"),
            r#"{"quantity":1,"sku":"x"}"#.into(),
        )
        .await;
        assert_eq!(status, 400);
        assert!(detail.contains("sku"), "{detail}");
    }

    #[tokio::test]
    async fn a_body_without_json_content_type_is_a_415() {
        let (status, _) = status_and_detail(Some("text/plain"), r#"{"quantity":1}"#.into()).await;
        assert_eq!(status, 415);
        let (status, _) = status_and_detail(None, r#"{"quantity":1}"#.into()).await;
        assert_eq!(status, 415);
    }

    #[tokio::test]
    async fn an_oversized_body_is_a_413() {
        let padding = " ".repeat(MAX_BODY_BYTES);
        let (status, _) = status_and_detail(
            Some("application/json"),
            format!("{{\"quantity\":1{padding}}}"),
        )
        .await;
        assert_eq!(status, 413);
    }
}
