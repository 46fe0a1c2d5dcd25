//! The HTTP access log: one structured line per request, an EMF metric per request, and the
//! correlation id echoed on every response.
//!
//! Add it with `Router::layer` so it also sees requests that match no route:
//! `router.layer(axum::middleware::from_fn_with_state(AccessLog::new("catalog"), access_log))`.
//! Bodies are logged only through the fields each route allows (see [`crate::redact`]).

use std::{sync::Arc, time::Instant};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, header::CONTENT_TYPE};
use lambda_http::{RequestExt, request::RequestContext};
use tracing::Instrument;

use crate::{
    correlation::CorrelationId,
    metric_names,
    metrics::Metrics,
    redact::{BodyFields, PROBLEM_FIELDS, body_for_log},
};

/// The access log's settings: the service name used in metrics, and per route the body fields
/// it may log. A route not listed logs no field of its bodies.
#[derive(Debug, Clone)]
pub struct AccessLog {
    service: &'static str,
    routes: Arc<Vec<(Method, &'static str, BodyFields)>>,
}

impl AccessLog {
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            routes: Arc::default(),
        }
    }

    /// Allows `fields` of the bodies of `method` on `route` (the route as axum matches it,
    /// e.g. `/products/{id}`).
    #[must_use]
    pub fn route(mut self, method: Method, route: &'static str, fields: BodyFields) -> Self {
        Arc::make_mut(&mut self.routes).push((method, route, fields));
        self
    }

    fn fields(&self, method: &Method, route: &str) -> BodyFields {
        self.routes
            .iter()
            .find(|(m, r, _)| m == method && *r == route)
            .map(|(_, _, fields)| *fields)
            .unwrap_or_default()
    }
}

/// A service without a declaration logs no body fields.
impl From<&'static str> for AccessLog {
    fn from(service: &'static str) -> Self {
        Self::new(service)
    }
}

/// Axum middleware (see the module docs).
pub async fn access_log(State(log): State<AccessLog>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let correlation_id = CorrelationId::from_headers(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let user_id = caller_id(&request);
    let fields = log.fields(&method, &route);

    let (parts, body) = request.into_parts();
    // Lambda hands the whole body over in memory already, so buffering it costs no extra I/O.
    let request_body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let logged_request_body =
        body_for_log(&request_body, content_type(&parts.headers), fields.request);
    let request = Request::from_parts(parts, Body::from(request_body));

    let span = tracing::info_span!("request", correlation_id = %correlation_id);
    let response = correlation_id
        .clone()
        .scope(next.run(request))
        .instrument(span.clone())
        .await;

    let (mut parts, body) = response.into_parts();
    let response_body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = parts.status.as_u16();
    if let Ok(value) = HeaderValue::from_str(correlation_id.as_str()) {
        parts.headers.insert(crate::correlation::HEADER, value);
    }

    let _entered = span.enter();
    let user_id = user_id.as_deref().unwrap_or("anonymous");
    let response_type = content_type(&parts.headers);
    let response_fields = if response_type == Some("application/problem+json") {
        PROBLEM_FIELDS
    } else {
        fields.response
    };
    let response_body_log = body_for_log(&response_body, response_type, response_fields);
    macro_rules! log_line {
        ($level:ident) => {
            tracing::$level!(
                method = %method,
                route = %route,
                path = %path,
                status,
                latency_ms,
                user_id,
                request_body = %logged_request_body,
                response_body = %response_body_log,
                "request completed"
            )
        };
    }
    match status {
        500.. => log_line!(error),
        400..500 => log_line!(warn),
        _ => log_line!(info),
    }

    Metrics::new(log.service)
        .dimension(metric_names::ROUTE, &format!("{method} {route}"))
        .property("correlation_id", correlation_id.as_str())
        .count(metric_names::REQUESTS.name, 1)
        .count(
            metric_names::ERRORS_4XX.name,
            u32::from((400..500).contains(&status)),
        )
        .count(metric_names::ERRORS_5XX.name, u32::from(status >= 500))
        .millis(metric_names::LATENCY.name, latency_ms)
        .emit();

    Response::from_parts(parts, Body::from(response_body))
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE)?.to_str().ok()
}

/// The authenticated caller's user id (`sub`), as API Gateway's JWT authorizer passed it.
fn caller_id(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context
            .authorizer
            .as_ref()?
            .jwt
            .as_ref()?
            .claims
            .get("sub")
            .cloned(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use axum::{Router, routing::post};
    use tower::ServiceExt;

    use super::*;
    use crate::{
        capture::CapturedLogs,
        redact::{Field, email_hash},
    };

    const ECHO: BodyFields = BodyFields {
        request: &[Field::plain("name"), Field::email_hash("email")],
        response: &[Field::plain("seen")],
    };

    fn app() -> Router {
        Router::new()
            .route(
                "/echo/{id}",
                post(|| async {
                    let id = CorrelationId::current().expect("set by the layer");
                    format!("{{\"seen\":\"{id}\",\"access_token\":\"secret-token\"}}")
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                AccessLog::new("test").route(Method::POST, "/echo/{id}", ECHO),
                access_log,
            ))
    }

    #[tokio::test]
    async fn the_client_correlation_id_is_echoed_and_visible_to_handlers() {
        let request = Request::post("/echo/1")
            .header("x-correlation-id", "client-id-1")
            .body(Body::empty())
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.headers()["x-correlation-id"], "client-id-1");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("client-id-1"));
    }

    #[tokio::test]
    async fn a_request_without_an_id_gets_a_generated_one() {
        let request = Request::post("/echo/1").body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        let id = response.headers()["x-correlation-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }

    async fn logged(request: Request) -> (serde_json::Value, String) {
        let (captured, _guard) = CapturedLogs::start();
        app().oneshot(request).await.unwrap();
        let line = captured.access_lines().pop().expect("an access log line");
        (line, captured.output())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_log_line_has_route_status_latency_and_allowed_body_fields() {
        let request = Request::post("/echo/7")
            .header("x-correlation-id", "log-test")
            .body(Body::from(
                r#"{"password":"hunter2","name":"Ada","email":"ada@example.com"}"#,
            ))
            .unwrap();
        let (line, output) = logged(request).await;
        assert_eq!(line["route"], "/echo/{id}");
        assert_eq!(line["path"], "/echo/7");
        assert_eq!(line["method"], "POST");
        assert_eq!(line["status"], 200);
        assert_eq!(line["user_id"], "anonymous");
        assert!(line["latency_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(line["spans"][0]["correlation_id"], "log-test");
        let request_body: serde_json::Value =
            serde_json::from_str(line["request_body"].as_str().unwrap()).unwrap();
        assert_eq!(
            request_body,
            serde_json::json!({
                "name": "Ada",
                "email": email_hash("ada@example.com"),
                "[REDACTED]": 1
            })
        );
        assert!(line["response_body"].as_str().unwrap().contains("log-test"));
        assert!(!output.contains("hunter2"));
        assert!(!output.contains("ada@example.com"));
        assert!(!output.contains("secret-token"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_body_that_is_not_json_is_logged_as_its_length_and_type_only() {
        let body = r#"{"password":"hunter2","name":"Ada",}"#;
        let request = Request::post("/echo/7")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let (line, output) = logged(request).await;
        assert_eq!(
            line["request_body"],
            format!("<{} bytes of application/json>", body.len())
        );
        assert!(!output.contains("hunter2"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_route_that_declares_nothing_logs_no_body_field() {
        let request = Request::post("/elsewhere")
            .body(Body::from(r#"{"name":"Ada"}"#))
            .unwrap();
        let (line, output) = logged(request).await;
        assert_eq!(line["route"], "unmatched");
        assert_eq!(line["request_body"], r#"{"[REDACTED]":1}"#);
        assert!(!output.contains("Ada"));
    }
}
