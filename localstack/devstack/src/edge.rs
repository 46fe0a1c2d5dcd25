//! The edge: one port for every AWS call, like LocalStack's. The Lambda Invoke API is answered
//! here; everything else is passed to the emulator unchanged.

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};

use crate::{
    faults::FaultSpec,
    lambda::{InvocationType, Lambda, Outcome},
    stack::Controls,
};

#[derive(Debug, Clone)]
pub struct Edge {
    lambda: Lambda,
    emulator: String,
    client: reqwest::Client,
    controls: Controls,
}

impl Edge {
    pub fn new(lambda: Lambda, emulator: &str, controls: Controls) -> Self {
        Self {
            lambda,
            emulator: emulator.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            controls,
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .route("/_devstack/counters", get(counters))
            .route("/_devstack/faults", post(arm_fault))
            .route("/_devstack/faults/{id}", delete(disarm_fault))
            .fallback(proxy)
            .with_state(self)
    }
}

async fn invoke(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
    payload: Bytes,
) -> Response {
    let invocation_type = InvocationType::from_header(
        headers
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok()),
    );
    if edge.lambda.function(&name).is_none() {
        let body = serde_json::json!({
            "Type": "User",
            "message": format!("Function not found: {name}"),
        });
        let mut response = (StatusCode::NOT_FOUND, body.to_string()).into_response();
        response.headers_mut().insert(
            "x-amzn-errortype",
            HeaderValue::from_static("ResourceNotFoundException"),
        );
        return response;
    }
    match invocation_type {
        InvocationType::DryRun => StatusCode::NO_CONTENT.into_response(),
        InvocationType::Event => {
            edge.lambda.invoke_event(&name, payload);
            StatusCode::ACCEPTED.into_response()
        }
        InvocationType::RequestResponse => {
            let outcome = edge
                .lambda
                .invoke(&name, payload)
                .await
                .unwrap_or_else(|| Outcome::error("ResourceNotFoundException", &name));
            let mut response = match outcome {
                Outcome::Success(body) => (StatusCode::OK, body).into_response(),
                Outcome::Error { body, .. } => {
                    let mut response = (StatusCode::OK, body).into_response();
                    response.headers_mut().insert(
                        "x-amz-function-error",
                        HeaderValue::from_static("Unhandled"),
                    );
                    response
                }
            };
            response.headers_mut().insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            response
        }
    }
}

/// devstack's counters (lost and parked events, retries, faults fired) as JSON, for tests.
async fn counters(State(edge): State<Edge>) -> axum::Json<serde_json::Value> {
    axum::Json(edge.controls.counters.to_json())
}

/// Arms an injected fault (`faults::FaultSpec`); answers with its id.
async fn arm_fault(
    State(edge): State<Edge>,
    axum::Json(spec): axum::Json<FaultSpec>,
) -> axum::Json<serde_json::Value> {
    let id = edge.controls.faults.arm(spec);
    axum::Json(serde_json::json!({ "id": id }))
}

async fn disarm_fault(State(edge): State<Edge>, Path(id): Path<String>) -> StatusCode {
    if edge.controls.faults.disarm(&id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

/// DynamoDB operations that write items, and so may put records on a table's stream.
const TABLE_WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

async fn proxy(State(edge): State<Edge>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let writes_a_table = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|target| target.strip_prefix("DynamoDB_20120810."))
        .is_some_and(|operation| TABLE_WRITES.contains(&operation));
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut upstream = edge
        .client
        .request(parts.method, format!("{}{path}", edge.emulator))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    match upstream.send().await {
        Ok(reply) => {
            let status = reply.status();
            let headers = reply.headers().clone();
            let body = reply.bytes().await.unwrap_or_default();
            if writes_a_table {
                edge.controls.table_writes.notify_waiters();
            }
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != "transfer-encoding" && name != "content-length" && name != "connection" {
                    response.headers_mut().append(name, value.clone());
                }
            }
            response
        }
        Err(error) => (
            StatusCode::BAD_GATEWAY,
            format!("emulator unreachable: {error}"),
        )
            .into_response(),
    }
}
