//! API Gateway (HTTP API) on localhost: the template's routes, its JWT authorizer, CORS and the
//! payload size limit, with requests and responses in payload format 2.0.

pub mod jwt;
pub mod payload;
pub mod routes;

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

pub use jwt::Authorizer;
use payload::MatchedRequest;
pub use routes::{Route, RouteTable};

use crate::{
    lambda::{Lambda, Outcome},
    monitoring::Monitoring,
    template::properties::serverless::CorsConfiguration,
};

/// API Gateway's request payload limit.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// CORS settings from the template's `CorsConfiguration`.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
}

impl From<&CorsConfiguration> for Cors {
    fn from(config: &CorsConfiguration) -> Self {
        Self {
            allow_origins: config.allow_origins.clone(),
            allow_methods: config.allow_methods.clone(),
            allow_headers: config.allow_headers.clone(),
            expose_headers: config.expose_headers.clone(),
            max_age: config.max_age,
        }
    }
}

impl Cors {
    fn allowed_origin(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            Some("*".to_owned())
        } else {
            self.allow_origins
                .iter()
                .any(|o| o == origin)
                .then(|| origin.to_owned())
        }
    }
}

#[derive(Debug, Clone)]
pub struct Gateway {
    routes: Arc<RouteTable>,
    authorizer: Option<Arc<Authorizer>>,
    cors: Option<Arc<Cors>>,
    lambda: Lambda,
    /// API Gateway's metrics, per `ApiId`.
    metrics: Option<(Monitoring, String)>,
}

impl Gateway {
    pub fn new(
        routes: RouteTable,
        authorizer: Option<Authorizer>,
        cors: Option<Cors>,
        lambda: Lambda,
    ) -> Self {
        Self {
            routes: Arc::new(routes),
            authorizer: authorizer.map(Arc::new),
            cors: cors.map(Arc::new),
            lambda,
            metrics: None,
        }
    }

    /// Records API Gateway's metrics for every request, under the API's id.
    #[must_use]
    pub fn with_metrics(mut self, monitoring: Monitoring, api_id: &str) -> Self {
        self.metrics = Some((monitoring, api_id.to_owned()));
        self
    }

    pub fn router(self) -> Router {
        Router::new().fallback(handle).with_state(self)
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    let mut response = (status, json!({ "message": text }).to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

async fn handle(State(gateway): State<Gateway>, request: Request) -> Response {
    let origin = request
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let started = std::time::Instant::now();
    let mut response = route(&gateway, request).await;
    if let Some((monitoring, api_id)) = &gateway.metrics {
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        monitoring.api_request(api_id, response.status().as_u16(), latency_ms, None);
    }
    if let (Some(cors), Some(origin)) = (&gateway.cors, origin)
        && let Some(allowed) = cors.allowed_origin(&origin)
    {
        let headers = response.headers_mut();
        insert(headers, "access-control-allow-origin", &allowed);
        if !cors.expose_headers.is_empty() {
            insert(
                headers,
                "access-control-expose-headers",
                &cors.expose_headers.join(","),
            );
        }
    }
    response
}

async fn route(gateway: &Gateway, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS
        && parts.headers.contains_key("access-control-request-method")
        && let Some(cors) = &gateway.cors
    {
        return preflight(cors);
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await else {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let path = parts.uri.path();
    let Some((route, path_parameters)) = gateway.routes.find(parts.method.as_str(), path) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };

    let claims = if route.public {
        None
    } else {
        let Some(authorizer) = &gateway.authorizer else {
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        };
        let header = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        match authorizer.verify(header).await {
            Ok(claims) => Some(claims),
            Err(error) => {
                tracing::info!(route = %route.key, %error, "request refused by the JWT authorizer");
                let mut response = message(StatusCode::UNAUTHORIZED, "Unauthorized");
                response
                    .headers_mut()
                    .insert("www-authenticate", HeaderValue::from_static("Bearer"));
                return response;
            }
        }
    };

    let event = payload::request_event(&MatchedRequest {
        method: &parts.method,
        path,
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        route_key: &route.key,
        path_parameters,
        claims: claims.as_ref(),
    });
    let Ok(event) = serde_json::to_vec(&event) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    match gateway
        .lambda
        .invoke(&route.function, Bytes::from(event))
        .await
    {
        Some(Outcome::Success(answer)) => payload::response_from(&answer),
        Some(Outcome::Error { error_type, .. }) => {
            tracing::warn!(route = %route.key, %error_type, "the integration failed");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        None => message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

fn preflight(cors: &Cors) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    insert(
        headers,
        "access-control-allow-methods",
        &cors.allow_methods.join(","),
    );
    insert(
        headers,
        "access-control-allow-headers",
        &cors.allow_headers.join(","),
    );
    if let Some(max_age) = cors.max_age {
        insert(headers, "access-control-max-age", &max_age.to_string());
    }
    response
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}
