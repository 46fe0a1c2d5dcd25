//! API Gateway HTTP API payload format 2.0, on `aws_lambda_events`' types: the event a function
//! receives for a request and the HTTP response its answer becomes. devstack's gateway and the
//! test kit's in-process requests are built here, so a handler tested without devstack sees the
//! same event it sees behind the gateway.

use std::{collections::HashMap, time::SystemTime};

use aws_lambda_events::{
    apigw::{
        ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
        ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
        ApiGatewayV2httpRequestContextHttpDescription, ApiGatewayV2httpResponse,
    },
    encodings::Body as EventBody,
    query_map::QueryMap,
};
use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};

/// A request as the gateway matched it to a route.
#[derive(Debug, Clone)]
pub struct MatchedRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// `METHOD /path/{param}`, or `$default`.
    pub route_key: &'a str,
    pub path_parameters: HashMap<String, String>,
    /// The verified token's claims, when the route has an authorizer.
    pub claims: Option<&'a Map<String, Value>>,
}

/// The event API Gateway sends the route's function. Repeated headers and query parameters
/// are joined with commas and cookies move to `cookies`, as payload 2.0 does.
pub fn request_event(request: &MatchedRequest<'_>) -> ApiGatewayV2httpRequest {
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in request.headers.keys() {
        let values: Vec<&str> = request
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if name == "cookie" {
            cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(|c| c.trim().to_owned()),
            );
        } else if let Ok(joined) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(name.clone(), joined);
        }
    }
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url_pairs(request.query) {
        query.entry(name).or_default().push(value);
    }
    let (body, is_base64_encoded) = match std::str::from_utf8(request.body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(request.body), true),
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = request.method.clone();
    http.path = Some(request.path.to_owned());
    http.protocol = Some("HTTP/1.1".to_owned());
    http.source_ip = Some("127.0.0.1".to_owned());
    http.user_agent = Some(header("user-agent").unwrap_or_default());

    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(request.route_key.to_owned());
    context.account_id = Some(crate::ACCOUNT.to_owned());
    context.stage = Some("$default".to_owned());
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.apiid = Some("local".to_owned());
    context.domain_name = Some(header("host").unwrap_or_else(|| "localhost".to_owned()));
    context.domain_prefix = Some("local".to_owned());
    let (time, time_epoch) = now();
    context.time = Some(time);
    context.time_epoch = time_epoch;
    context.http = http;
    if let Some(claims) = request.claims {
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = claims_as_strings(claims);
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        context.authorizer = Some(authorizer);
    }

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".to_owned());
    event.route_key = Some(request.route_key.to_owned());
    event.raw_path = Some(request.path.to_owned());
    event.raw_query_string = Some(request.query.to_owned());
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = headers;
    event.query_string_parameters = QueryMap::from(query);
    event.path_parameters.clone_from(&request.path_parameters);
    event.request_context = context;
    event.body = (!body.is_empty()).then_some(body);
    event.is_base64_encoded = is_base64_encoded;
    event
}

/// JWT claims as API Gateway hands them over: every value a string, arrays as `[a b]`.
pub fn claims_as_strings(claims: &Map<String, Value>) -> HashMap<String, String> {
    claims
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|item| item
                            .as_str()
                            .map_or_else(|| item.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}

/// The request time as `requestContext.time` and `timeEpoch` (milliseconds) carry it.
fn now() -> (String, i64) {
    let epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let time = time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();
    (time, i64::try_from(epoch.as_millis()).unwrap_or(i64::MAX))
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

/// The HTTP response for a function's answer. An answer that is not a response object is, as
/// in API Gateway, a 200 with the answer as its JSON body.
pub fn response_from(payload: &[u8]) -> Response {
    let answer = serde_json::from_slice::<Value>(payload)
        .ok()
        .filter(|document| document.get("statusCode").is_some())
        .and_then(|mut document| {
            // API Gateway takes a response object whose other members are missing; the
            // event type's deserializer wants them all.
            for (member, default) in [
                ("isBase64Encoded", Value::Bool(false)),
                ("headers", Value::Object(serde_json::Map::new())),
                ("multiValueHeaders", Value::Object(serde_json::Map::new())),
                ("cookies", Value::Array(Vec::new())),
            ] {
                if document.get(member).is_none_or(Value::is_null) {
                    document[member] = default;
                }
            }
            serde_json::from_value::<ApiGatewayV2httpResponse>(document).ok()
        });
    let Some(answer) = answer else {
        let mut response = (StatusCode::OK, payload.to_vec()).into_response();
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        return response;
    };
    let body = match answer.body {
        Some(EventBody::Text(text)) if answer.is_base64_encoded => {
            STANDARD.decode(text).unwrap_or_default()
        }
        Some(EventBody::Text(text)) => text.into_bytes(),
        Some(EventBody::Binary(bytes)) => bytes,
        _ => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = u16::try_from(answer.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in &answer.headers {
        headers.insert(name.clone(), value.clone());
    }
    for (name, value) in &answer.multi_value_headers {
        headers.append(name.clone(), value.clone());
    }
    for cookie in answer.cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append("set-cookie", value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_response_object_with_only_some_members_is_taken_as_the_response() {
        let response = response_from(
            br#"{"statusCode": 201, "headers": {"content-type": "text/plain"}, "body": "made"}"#,
        );

        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["content-type"], "text/plain");
    }

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
    fn the_event_carries_route_claims_cookies_and_joined_repeats() {
        let mut headers = HeaderMap::new();
        headers.append("accept", HeaderValue::from_static("a"));
        headers.append("accept", HeaderValue::from_static("b"));
        headers.append("cookie", HeaderValue::from_static("x=1; y=2"));
        let claims = json!({"sub": "u-1", "cognito:groups": ["admin", "customer"]});
        let event = request_event(&MatchedRequest {
            method: &Method::POST,
            path: "/products/p-1",
            query: "tag=a&tag=b",
            headers: &headers,
            body: b"{}",
            route_key: "POST /products/{id}",
            path_parameters: HashMap::from([("id".to_owned(), "p-1".to_owned())]),
            claims: claims.as_object(),
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["routeKey"], "POST /products/{id}");
        assert_eq!(json["requestContext"]["http"]["method"], "POST");
        assert_eq!(json["headers"]["accept"], "a,b");
        assert!(json["headers"].get("cookie").is_none());
        assert_eq!(json["cookies"], json!(["x=1", "y=2"]));
        assert_eq!(json["queryStringParameters"]["tag"], "a,b");
        assert_eq!(json["pathParameters"]["id"], "p-1");
        assert_eq!(
            json["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"],
            "[admin customer]"
        );
        // What a deployed function does with it.
        let request = lambda_http::request::from_str(&json.to_string());
        assert!(request.is_ok(), "lambda_http reads the event");
    }

    #[test]
    fn claims_become_strings_with_arrays_in_brackets() {
        let claims = json!({"sub": "u1", "cognito:groups": ["admin", "customer"], "exp": 1_700_000_000, "email_verified": true});
        let strings = claims_as_strings(claims.as_object().unwrap());
        assert_eq!(strings["cognito:groups"], "[admin customer]");
        assert_eq!(strings["exp"], "1700000000");
        assert_eq!(strings["email_verified"], "true");
        assert_eq!(strings["sub"], "u1");
    }

    #[test]
    fn a_binary_body_is_base64_encoded() {
        let event = request_event(&MatchedRequest {
            method: &Method::PUT,
            path: "/files",
            query: "",
            headers: &HeaderMap::new(),
            body: &[0xff, 0x00],
            route_key: "$default",
            path_parameters: HashMap::new(),
            claims: None,
        });
        assert!(event.is_base64_encoded);
        assert_eq!(event.body.as_deref(), Some("/wA="));
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
