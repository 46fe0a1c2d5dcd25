//! The edge: one port for every AWS call, like LocalStack's. The Lambda Invoke API is answered
//! here; everything else is passed to the emulator once it passes the checks moto does not
//! make: the calling function's execution role ([`crate::iam::roles`]) and the Cognito app
//! client's rules ([`cognito`]).

mod capacity;
mod cloudwatch;
mod cognito;
mod lambda_api;
mod metrics;

pub use capacity::item_size;
pub use cognito::AppClients;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};

use std::{collections::HashMap, path::PathBuf};

use crate::{
    counters::Counter,
    faults::FaultSpec,
    iam::{ExecutionRoles, roles::Denied},
    lambda::{InvocationType, Lambda, Outcome, split_reference, versions::LambdaApiError},
    stack::Controls,
};

#[derive(Debug, Clone)]
pub struct Edge {
    lambda: Lambda,
    emulator: String,
    client: reqwest::Client,
    controls: Controls,
    roles: ExecutionRoles,
    clients: AppClients,
    /// Where deployment packages uploaded through the Lambda API are unpacked.
    code_dir: PathBuf,
}

impl Edge {
    pub fn new(
        lambda: Lambda,
        emulator: &str,
        controls: Controls,
        roles: ExecutionRoles,
        clients: AppClients,
        code_dir: PathBuf,
    ) -> Self {
        Self {
            lambda,
            emulator: emulator.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            controls,
            roles,
            clients,
            code_dir,
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .route("/_devstack/counters", get(counters))
            .route("/_devstack/faults", post(arm_fault))
            .route("/_devstack/faults/{id}", delete(disarm_fault))
            .route("/_devstack/iam/unused", get(unused_grants))
            .route("/_devstack/alarms", get(alarms))
            .route("/_devstack/dashboards", get(dashboards))
            .route("/_devstack/dashboards/{name}", get(dashboard))
            .merge(lambda_api::routes())
            .merge(metrics::routes())
            .fallback(proxy)
            .with_state(self)
    }
}

async fn invoke(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
    payload: Bytes,
) -> Response {
    let invocation_type = InvocationType::from_header(
        headers
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok()),
    );
    let reference = match (split_reference(&name).1, query.get("Qualifier")) {
        (None, Some(qualifier)) => format!("{name}:{qualifier}"),
        _ => name,
    };
    let found = edge
        .lambda
        .function(&reference)
        .ok_or_else(|| LambdaApiError::NotFound(format!("Function not found: {reference}")));
    let (function, revision) = match found.and_then(|function| {
        let qualifier = split_reference(&reference).1;
        let revision = function.versions(|v| v.resolve(qualifier))?;
        Ok((function, revision))
    }) {
        Ok(found) => found,
        Err(error) => return lambda_api::refusal(&error),
    };
    let signer = edge.roles.signer(authorization(&headers));
    if let Some(role) = signer
        && let Err(denied) = edge.roles.check_invoke(role, &function.spec().arn)
    {
        return access_denied(&edge, &denied);
    }
    match invocation_type {
        InvocationType::DryRun => StatusCode::NO_CONTENT.into_response(),
        InvocationType::Event => {
            edge.lambda.invoke_event(&reference, payload);
            StatusCode::ACCEPTED.into_response()
        }
        InvocationType::RequestResponse => {
            let version = revision.version.clone();
            let mut response = match function.invoke_revision(revision, payload).await {
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
            if let Ok(version) = HeaderValue::from_str(&version) {
                response
                    .headers_mut()
                    .insert("x-amz-executed-version", version);
            }
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

/// Every alarm's state and the reason for it.
async fn alarms(State(edge): State<Edge>) -> axum::Json<serde_json::Value> {
    axum::Json(edge.controls.monitoring.alarms_json())
}

/// The template's dashboards, drawn from local metrics.
async fn dashboards(State(edge): State<Edge>) -> axum::response::Html<String> {
    axum::response::Html(crate::monitoring::dashboards::index(
        &edge.controls.monitoring.dashboards,
    ))
}

async fn dashboard(State(edge): State<Edge>, Path(name): Path<String>) -> Response {
    match edge.controls.monitoring.dashboard_page(&name) {
        Some(page) => axum::response::Html(page).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no dashboard named {name}")).into_response(),
    }
}

/// The grants of every function's role that no call has used since the stack started.
async fn unused_grants(State(edge): State<Edge>) -> axum::Json<serde_json::Value> {
    axum::Json(edge.roles.unused_grants())
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok())
}

/// IAM's refusal, as the JSON protocols carry it; said loudly, because on AWS it is the
/// function's error log line that tells.
fn access_denied(edge: &Edge, denied: &Denied) -> Response {
    edge.controls
        .counters
        .add(Counter::AccessDenied, &denied.function);
    tracing::error!(function = %denied.function, "denied: {}", denied.message);
    aws_error(
        StatusCode::BAD_REQUEST,
        "AccessDeniedException",
        &denied.message,
    )
}

/// An error answer of the AWS JSON protocols.
fn aws_error(status: StatusCode, error_type: &'static str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": error_type, "message": message });
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

/// `GetMetricData` answered from devstack's metrics ([`cloudwatch`]).
fn metric_data(edge: &Edge, protocol: cloudwatch::Protocol, body: &[u8]) -> Response {
    let (status, body) = match cloudwatch::answer(protocol, body, &edge.controls.monitoring) {
        Ok(answer) => (StatusCode::OK, answer),
        Err(why) => (StatusCode::BAD_REQUEST, cloudwatch::error(protocol, &why)),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    match protocol {
        cloudwatch::Protocol::Cbor => {
            headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            headers.insert("content-type", HeaderValue::from_static("application/cbor"));
        }
        cloudwatch::Protocol::Json => {
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
        }
    }
    response
}

/// KMS alias names and the key ids they point to, read from the emulator.
async fn kms_aliases(edge: &Edge) -> HashMap<String, String> {
    let reply = edge
        .client
        .post(&edge.emulator)
        .header("x-amz-target", "TrentService.ListAliases")
        .header("content-type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await;
    let Ok(reply) = reply else {
        return HashMap::new();
    };
    let listing: serde_json::Value = reply.json().await.unwrap_or_default();
    listing["Aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|alias| {
            Some((
                alias["AliasName"].as_str()?.to_owned(),
                alias["TargetKeyId"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// DynamoDB operations that write items, and so may put records on a table's stream.
const TABLE_WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Operations that change nothing an idle poller watches ([`crate::activity`]).
const READS: [&str; 6] = ["Get", "List", "Describe", "Query", "Scan", "BatchGet"];

async fn proxy(State(edge): State<Edge>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let table_write = target
        .and_then(|target| target.strip_prefix("DynamoDB_20120810."))
        .filter(|operation| TABLE_WRITES.contains(operation));
    let reads_only = target
        .and_then(|target| target.split('.').nth(1))
        .is_some_and(|operation| READS.iter().any(|read| operation.starts_with(read)));
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let written_tables = table_write
        .map(|operation| crate::activity::written_tables(operation, &body))
        .unwrap_or_default();
    if let Some(role) = edge.roles.signer(authorization(&parts.headers)) {
        // Aliases are read from the emulator only for a KMS call that names one.
        let names_an_alias = body.windows(6).any(|w| w == b"alias/");
        let aliases = if names_an_alias && target.is_some_and(|t| t.starts_with("TrentService.")) {
            kms_aliases(&edge).await
        } else {
            HashMap::new()
        };
        if let Err(denied) = edge.roles.check(role, target, &body, &aliases) {
            return access_denied(&edge, &denied);
        }
    }
    // After the role check: a function's GetMetricData is IAM's to allow first.
    if let Some(protocol) = cloudwatch::get_metric_data(parts.uri.path(), target) {
        return metric_data(&edge, protocol, &body);
    }
    if let Some(target) = target
        && let Err(refusal) = edge.clients.check(target, &body)
    {
        return aws_error(
            StatusCode::BAD_REQUEST,
            refusal.error_type,
            &refusal.message,
        );
    }
    if let Some(target) = target {
        edge.controls.counters.add(Counter::AwsCall, target);
        if let Some(role) = edge.roles.signer(authorization(&parts.headers)) {
            edge.controls
                .counters
                .add(Counter::AwsCallBy, &role.function);
        }
    }
    let (body, metered) = capacity::meter(target, body);
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
            let mut body = reply.bytes().await.unwrap_or_default();
            // The body changes, so moto's checksum of it goes: the AWS CLI checks `x-amz-crc32`.
            let rewritten = metered.is_some() && status.is_success();
            if let Some(metered) = metered.filter(|_| status.is_success()) {
                body = capacity::record(metered, body, &edge.controls.monitoring);
            }
            for table in &written_tables {
                edge.controls.table_writes.wrote(table);
            }
            if !reads_only {
                edge.controls.activity.touch();
            }
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            for (name, value) in &headers {
                let stale_checksum = rewritten && name == "x-amz-crc32";
                if name != "transfer-encoding"
                    && name != "content-length"
                    && name != "connection"
                    && !stale_checksum
                {
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
