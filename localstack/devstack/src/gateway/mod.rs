//! API Gateway (HTTP API) on localhost: the template's routes, its JWT authorizer, CORS and the
//! payload size limit, with requests and responses in payload format 2.0.

pub mod jwt;
pub mod routes;

use std::{sync::Arc, time::SystemTime};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

pub use jwt::Authorizer;
pub use routes::{Route, RouteTable};

use crate::lambda::{Lambda, Outcome};

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

impl Cors {
    pub fn from_template(config: &Value) -> Self {
        let list = |key: &str| -> Vec<String> {
            config[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        Self {
            allow_origins: list("AllowOrigins"),
            allow_methods: list("AllowMethods"),
            allow_headers: list("AllowHeaders"),
            expose_headers: list("ExposeHeaders"),
            max_age: config["MaxAge"].as_u64(),
        }
    }

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
        }
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
    let mut response = route(&gateway, request).await;
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

    let event = request_event(&parts, &body, route, &path_parameters, claims.as_ref());
    match gateway
        .lambda
        .invoke(&route.function, Bytes::from(event.to_string()))
        .await
    {
        Some(Outcome::Success(payload)) => response_from(&payload),
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

/// The payload format 2.0 event API Gateway sends a function.
fn request_event(
    parts: &http::request::Parts,
    body: &Bytes,
    route: &Route,
    path_parameters: &std::collections::HashMap<String, String>,
    claims: Option<&Map<String, Value>>,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        let joined = match headers.get(name.as_str()).and_then(Value::as_str) {
            Some(previous) => format!("{previous},{value}"),
            None => value.to_owned(),
        };
        headers.insert(name.as_str().to_owned(), Value::String(joined));
    }
    let query = parts.uri.query().unwrap_or_default();
    let mut query_parameters = Map::new();
    for (name, value) in url_pairs(query) {
        let joined = match query_parameters.get(&name).and_then(Value::as_str) {
            Some(previous) => format!("{previous},{value}"),
            None => value,
        };
        query_parameters.insert(name, Value::String(joined));
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let time = time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();
    let (body, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(body), true),
    };
    let mut context = json!({
        "accountId": crate::ACCOUNT,
        "apiId": "local",
        "domainName": headers.get("host").cloned().unwrap_or(Value::String("localhost".into())),
        "domainPrefix": "local",
        "http": {
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent").cloned().unwrap_or(Value::String(String::new())),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route.key,
        "stage": "$default",
        "time": time,
        "timeEpoch": u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
    });
    if let Some(claims) = claims {
        context["authorizer"] =
            json!({"jwt": {"claims": jwt::claims_as_strings(claims), "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": parts.uri.path(),
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    });
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !query_parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(query_parameters);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    event
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The HTTP response for a function's payload format 2.0 answer. An answer that is not a
/// response object is, as in API Gateway, a 200 with the answer as its JSON body.
fn response_from(payload: &[u8]) -> Response {
    let document: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let Some(status) = document.get("statusCode").and_then(Value::as_u64) else {
        let mut response = (StatusCode::OK, payload.to_vec()).into_response();
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        return response;
    };
    let body = match document["body"].as_str() {
        Some(text) if document["isBase64Encoded"].as_bool() == Some(true) => {
            STANDARD.decode(text).unwrap_or_default()
        }
        Some(text) => text.as_bytes().to_vec(),
        None => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in document["headers"].as_object().into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            headers.insert(name, value);
        }
    }
    for (name, values) in document["multiValueHeaders"]
        .as_object()
        .into_iter()
        .flatten()
    {
        for value in values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
    }
    for cookie in document["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append("set-cookie", value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            url_pairs("limit=2&cursor=a%3Db&name=two+words&flag"),
            [
                ("limit".into(), "2".into()),
                ("cursor".into(), "a=b".into()),
                ("name".into(), "two words".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn a_response_object_sets_status_headers_cookies_and_body() {
        let payload = json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "location": "/products/1"},
            "cookies": ["a=1"],
            "body": "{\"id\":1}",
            "isBase64Encoded": false
        });
        let response = response_from(payload.to_string().as_bytes());
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["location"], "/products/1");
        assert_eq!(response.headers()["set-cookie"], "a=1");
    }

    #[test]
    fn any_other_answer_is_a_200_json_body() {
        let response = response_from(br#"{"hello":"world"}"#);
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
