//! The Lambda Runtime API for one function process
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>): the process long-polls
//! `next`, then posts the invocation's response or error.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::Outcome;

/// One request for the process.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// The function's timeout, counted from when the process takes the invocation.
    pub timeout: Duration,
    pub function_arn: String,
    /// `Lambda-Runtime-Trace-Id`, in X-Ray's format.
    pub trace_id: String,
    /// Told when the process took the invocation (its `next` call answered).
    pub taken: oneshot::Sender<()>,
    pub reply: oneshot::Sender<Outcome>,
}

/// The trace header Lambda hands an invocation: X-Ray's `Root=1-<epoch seconds, hex>-<24 hex>`,
/// the parent segment and whether it is sampled (`Tracing: Active` samples every invocation).
/// devstack records no segments; the header is there so logs carry a real trace id.
pub fn trace_header(request_id: &str, sampled: bool) -> String {
    // A request id is a UUID: 32 hex digits, enough for the root's 24 and the parent's 16.
    let hex: String = format!("{request_id:0>32}")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (root, parent) = (&hex[..24], &hex[hex.len() - 16..]);
    format!(
        "Root=1-{epoch:08x}-{root};Parent={parent};Sampled={}",
        u8::from(sampled)
    )
}

/// The server side of one process's Runtime API.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    queue: Arc<Mutex<mpsc::Receiver<Invocation>>>,
    in_flight: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
    init_error: Arc<Mutex<Option<String>>>,
}

impl RuntimeApi {
    /// The API and the sender its invocations arrive through.
    pub fn new() -> (Self, mpsc::Sender<Invocation>) {
        let (sender, receiver) = mpsc::channel(1);
        let api = Self {
            queue: Arc::new(Mutex::new(receiver)),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            init_error: Arc::new(Mutex::new(None)),
        };
        (api, sender)
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(self.clone())
    }

    /// The error the process reported during init, if it did.
    pub async fn init_error(&self) -> Option<String> {
        self.init_error.lock().await.clone()
    }
}

async fn next(State(api): State<RuntimeApi>) -> Response {
    let Some(invocation) = api.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline_ms = (SystemTime::now() + invocation.timeout)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        &invocation.function_arn,
    );
    set("lambda-runtime-trace-id", &invocation.trace_id);
    set("content-type", "application/json");
    api.in_flight
        .lock()
        .await
        .insert(invocation.request_id, invocation.reply);
    let _ = invocation.taken.send(());
    (headers, invocation.payload).into_response()
}

async fn response(
    State(api): State<RuntimeApi>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    complete(&api, &id, Outcome::Success(body)).await
}

async fn error(
    State(api): State<RuntimeApi>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|doc| doc["errorType"].as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "Unhandled".to_owned());
    complete(&api, &id, Outcome::Error { error_type, body }).await
}

async fn init_error(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    *api.init_error.lock().await = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

async fn complete(api: &RuntimeApi, id: &str, outcome: Outcome) -> StatusCode {
    match api.in_flight.lock().await.remove(id) {
        Some(reply) => {
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_header_is_in_xrays_format_and_says_whether_it_is_sampled() {
        let header = trace_header("21f350fe-386c-45a8-b097-217565fe5150", true);
        let parts: Vec<&str> = header.split(';').collect();
        let root: Vec<&str> = parts[0].trim_start_matches("Root=").split('-').collect();
        assert_eq!(root[0], "1");
        assert_eq!(root[1].len(), 8);
        assert_eq!(root[2], "21f350fe386c45a8b0972175");
        assert_eq!(parts[1], "Parent=b097217565fe5150");
        assert_eq!(parts[2], "Sampled=1");
        assert!(trace_header("21f350fe-386c-45a8-b097-217565fe5150", false).ends_with("Sampled=0"));
    }
}
