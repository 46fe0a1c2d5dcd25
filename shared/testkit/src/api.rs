//! Requests as API Gateway (HTTP API, payload format 2.0) hands them to a Lambda function,
//! turned into `http::Request`s by lambda_http exactly as in production, and sent to a router.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use axum::Router;
use devstack::gateway::payload::{self, MatchedRequest};
use http::Method;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Who is calling, as the gateway's JWT authorizer would describe them.
#[derive(Debug, Clone)]
pub enum As {
    Anonymous,
    /// A signed-in user with the given id and Cognito groups.
    User {
        id: String,
        groups: Vec<String>,
    },
}

impl As {
    pub fn admin() -> Self {
        Self::User {
            id: "admin-user".into(),
            groups: vec!["admin".into()],
        }
    }

    pub fn customer(id: &str) -> Self {
        Self::User {
            id: id.into(),
            groups: vec!["customer".into()],
        }
    }
}

/// A request to send through [`send`].
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: Method,
    path: String,
    caller: As,
    headers: Vec<(String, String)>,
    body: Option<String>,
    source_ip: Option<String>,
}

impl ApiRequest {
    pub fn new(method: Method, path: &str) -> Self {
        Self {
            method,
            path: path.into(),
            caller: As::Anonymous,
            headers: Vec::new(),
            body: None,
            source_ip: None,
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: &str) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: &str) -> Self {
        Self::new(Method::PUT, path)
    }

    pub fn delete(path: &str) -> Self {
        Self::new(Method::DELETE, path)
    }

    #[must_use]
    pub fn caller(mut self, caller: As) -> Self {
        self.caller = caller;
        self
    }

    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A JSON body with `content-type: application/json`.
    #[must_use]
    pub fn json(self, body: &Value) -> Self {
        self.raw_body("application/json", &body.to_string())
    }

    /// The client's address as the gateway reports it (`requestContext.http.sourceIp`);
    /// devstack's gateway's own otherwise.
    #[must_use]
    pub fn from_source(mut self, ip: &str) -> Self {
        self.source_ip = Some(ip.into());
        self
    }

    #[must_use]
    pub fn raw_body(mut self, content_type: &str, body: &str) -> Self {
        self.body = Some(body.into());
        self.header("content-type", content_type)
    }

    /// The Lambda event API Gateway would send for this request, built by devstack's
    /// gateway code (routed to the function's `$default` route: the router matches paths).
    pub fn to_event(&self) -> ApiGatewayV2httpRequest {
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let mut headers = http::HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        headers.insert("user-agent", http::HeaderValue::from_static("testkit"));
        let claims = match &self.caller {
            As::Anonymous => None,
            As::User { id, groups } => Some(json!({
                "sub": id,
                "cognito:groups": groups,
                "token_use": "access",
            })),
        };
        let mut event = payload::request_event(&MatchedRequest {
            method: &self.method,
            path,
            query,
            headers: &headers,
            body: self.body.as_deref().unwrap_or_default().as_bytes(),
            route_key: "$default",
            path_parameters: HashMap::new(),
            claims: claims.as_ref().and_then(Value::as_object),
        });
        if let Some(ip) = &self.source_ip {
            event.request_context.http.source_ip = Some(ip.clone());
        }
        event
    }
}

/// A response, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

/// Sends `request` to `router` the way lambda_http does in a deployed function.
pub async fn send(router: &Router, request: &ApiRequest) -> ApiResponse {
    let event = serde_json::to_string(&request.to_event()).expect("events serialize");
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("routers do not fail");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("read body").to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    ApiResponse {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}
