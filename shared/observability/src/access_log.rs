//! The HTTP access log: one structured line per request, an EMF metric per request, and the
//! correlation id echoed on every response.
//!
//! Add it with `Router::layer` so it also sees requests that match no route:
//! `router.layer(axum::middleware::from_fn_with_state("catalog", access_log))`.

use std::time::Instant;

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use bytes::Bytes;
use http::HeaderValue;
use lambda_http::{RequestExt, request::RequestContext};
use tracing::Instrument;

use crate::{correlation::CorrelationId, metrics::Metrics, redact::body_for_log};

/// Axum middleware (see the module docs). The state is the service name used in metrics.
pub async fn access_log(
    State(service): State<&'static str>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let correlation_id = CorrelationId::from_headers(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let user_id = caller_id(&request);

    let (parts, body) = request.into_parts();
    // Lambda hands the whole body over in memory already, so buffering it costs no extra I/O.
    let request_body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let logged_request_body = body_for_log(&request_body);
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
    let response_body_log = body_for_log(&response_body);
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

    Metrics::new(service)
        .dimension("route", &format!("{method} {route}"))
        .property("correlation_id", correlation_id.as_str())
        .count("Requests", 1)
        .count("Errors4xx", u32::from((400..500).contains(&status)))
        .count("Errors5xx", u32::from(status >= 500))
        .millis("Latency", latency_ms)
        .emit();

    Response::from_parts(parts, Body::from(response_body))
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
    use std::sync::{Arc, Mutex};

    use axum::{Router, routing::post};
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route(
                "/echo/{id}",
                post(|| async {
                    let id = CorrelationId::current().expect("set by the layer");
                    format!("{{\"seen\":\"{id}\",\"access_token\":\"secret-token\"}}")
                }),
            )
            .layer(axum::middleware::from_fn_with_state("test", access_log))
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
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

    #[tokio::test(flavor = "current_thread")]
    async fn the_log_line_has_route_status_latency_and_redacted_bodies() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let request = Request::post("/echo/7")
            .header("x-correlation-id", "log-test")
            .body(Body::from(r#"{"password":"hunter2","name":"Ada"}"#))
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);

        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = output
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .find(|line| line["message"] == "request completed")
            .expect("an access log line");
        assert_eq!(line["route"], "/echo/{id}");
        assert_eq!(line["path"], "/echo/7");
        assert_eq!(line["method"], "POST");
        assert_eq!(line["status"], 200);
        assert_eq!(line["user_id"], "anonymous");
        assert!(line["latency_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(line["span"]["correlation_id"], "log-test");
        assert!(line["request_body"].as_str().unwrap().contains("Ada"));
        assert!(!output.contains("hunter2"));
        assert!(!output.contains("secret-token"));
    }
}
