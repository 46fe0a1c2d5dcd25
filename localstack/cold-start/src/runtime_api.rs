//! A Lambda Runtime API (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>) that
//! hands one function process exactly one invocation and notes when the process reached each
//! step: its first `next` (the end of init) and its response (or error).
//!
//! A second `next` is never answered: Lambda freezes a process between invocations, and the
//! measurement ends with the first response, so the process is left waiting until it is killed.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

/// What the process answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(Bytes),
    /// `/invocation/{id}/error`: the error type header and the body.
    Error {
        kind: String,
        body: Bytes,
    },
    /// `/init/error`: the process could not start.
    InitError {
        kind: String,
        body: Bytes,
    },
}

/// When the host received each of the process's calls.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    /// The first `GET /invocation/next`: init is over.
    pub next: Option<Instant>,
    /// The response or error was posted.
    pub answered: Option<Instant>,
}

/// The invocation handed out, as Lambda's `next` answer describes it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub function_arn: String,
    pub payload: Bytes,
    /// Reported to the process as its deadline, counted from the `next` answer.
    pub timeout: Duration,
}

#[derive(Debug)]
struct Shared {
    invocation: Invocation,
    marks: Mutex<Marks>,
    outcome: watch::Sender<Option<Outcome>>,
}

/// A running Runtime API for one process; dropping it stops the server.
#[derive(Debug)]
pub struct OneInvocation {
    shared: Arc<Shared>,
    outcome: watch::Receiver<Option<Outcome>>,
    /// What the process is given as `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    server: JoinHandle<()>,
}

impl OneInvocation {
    pub async fn serve(invocation: Invocation) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (sender, outcome) = watch::channel(None);
        let shared = Arc::new(Shared {
            invocation,
            marks: Mutex::new(Marks::default()),
            outcome: sender,
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            shared,
            outcome,
            address,
            server,
        })
    }

    /// Waits until the process answered (or reported an init error); `None` if it has not by
    /// the time `give_up` resolves (the process died, or hangs).
    pub async fn answered(&mut self, give_up: impl Future<Output = ()>) -> Option<Outcome> {
        tokio::select! {
            // An answer that came just before the process died still counts.
            biased;
            changed = self.outcome.wait_for(Option::is_some) => {
                changed.ok().and_then(|outcome| outcome.clone())
            }
            () = give_up => None,
        }
    }

    pub fn marks(&self) -> Marks {
        self.shared.marks.lock().expect("marks lock").clone()
    }
}

impl Drop for OneInvocation {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let now = Instant::now();
    let first = {
        let mut marks = shared.marks.lock().expect("marks lock");
        let first = marks.next.is_none();
        marks.next.get_or_insert(now);
        first
    };
    if !first {
        return std::future::pending().await;
    }
    let invocation = &shared.invocation;
    let deadline = SystemTime::now() + invocation.timeout;
    let deadline_ms = deadline
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
    set(
        "lambda-runtime-trace-id",
        &devstack::lambda::runtime_api::trace_header(&invocation.request_id, true),
    );
    (headers, invocation.payload.clone()).into_response()
}

fn finish(shared: &Shared, at: Instant, outcome: Outcome) -> StatusCode {
    shared
        .marks
        .lock()
        .expect("marks lock")
        .answered
        .get_or_insert(at);
    shared.outcome.send_if_modified(|current| {
        let first = current.is_none();
        if first {
            *current = Some(outcome);
        }
        first
    });
    StatusCode::ACCEPTED
}

fn error_type(headers: &HeaderMap) -> String {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled")
        .to_owned()
}

async fn response(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let now = Instant::now();
    finish(&shared, now, Outcome::Response(body))
}

async fn error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = Instant::now();
    let kind = error_type(&headers);
    finish(&shared, now, Outcome::Error { kind, body })
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = Instant::now();
    let kind = error_type(&headers);
    finish(&shared, now, Outcome::InitError { kind, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation() -> Invocation {
        Invocation {
            request_id: "21f350fe-386c-45a8-b097-217565fe5150".to_owned(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:echo".to_owned(),
            payload: Bytes::from_static(br#"{"hello":"world"}"#),
            timeout: Duration::from_secs(10),
        }
    }

    fn url(api: &OneInvocation, path: &str) -> String {
        format!("http://{}/2018-06-01/runtime/{path}", api.address)
    }

    #[tokio::test]
    async fn hands_out_the_event_once_and_notes_next_then_the_response() {
        let mut api = OneInvocation::serve(invocation()).await.unwrap();
        let http = reqwest::Client::new();
        let first = http.get(url(&api, "invocation/next")).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(
            first.headers()["lambda-runtime-aws-request-id"],
            "21f350fe-386c-45a8-b097-217565fe5150"
        );
        assert!(first.headers().contains_key("lambda-runtime-deadline-ms"));
        assert_eq!(first.bytes().await.unwrap(), r#"{"hello":"world"}"#);

        let posted = http
            .post(url(
                &api,
                "invocation/21f350fe-386c-45a8-b097-217565fe5150/response",
            ))
            .body("done")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        let outcome = api.answered(std::future::pending()).await;
        assert_eq!(
            outcome,
            Some(Outcome::Response(Bytes::from_static(b"done")))
        );
        let marks = api.marks();
        assert!(marks.next.unwrap() <= marks.answered.unwrap());

        // The process's next poll is left waiting: it gets no second invocation.
        let second = http.get(url(&api, "invocation/next")).send();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), second)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn an_init_error_ends_the_wait_without_a_next() {
        let mut api = OneInvocation::serve(invocation()).await.unwrap();
        reqwest::Client::new()
            .post(url(&api, "init/error"))
            .header("lambda-runtime-function-error-type", "Runtime.ConfigError")
            .body("PRODUCTS_TABLE is not set")
            .send()
            .await
            .unwrap();
        let outcome = api.answered(std::future::pending()).await;
        assert_eq!(
            outcome,
            Some(Outcome::InitError {
                kind: "Runtime.ConfigError".to_owned(),
                body: Bytes::from_static(b"PRODUCTS_TABLE is not set"),
            })
        );
        assert!(api.marks().next.is_none());
    }

    #[tokio::test]
    async fn gives_up_when_told_to() {
        let mut api = OneInvocation::serve(invocation()).await.unwrap();
        assert_eq!(api.answered(async {}).await, None);
    }
}
