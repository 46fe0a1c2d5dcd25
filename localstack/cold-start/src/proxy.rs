//! A recording HTTP proxy between a function and the emulator: the function's
//! `AWS_ENDPOINT_URL`, so every AWS call it makes passes here and is timed from the moment its
//! request arrived to the moment its answer is handed back. The time the function spends in
//! AWS calls is read from these records, not assumed from the code.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio::{net::TcpListener, task::JoinHandle};

/// One call the function made.
#[derive(Debug, Clone)]
pub struct Call {
    /// `X-Amz-Target` (`DynamoDB_20120810.GetItem`), else the method and path.
    pub operation: String,
    pub status: u16,
    /// When the request had arrived (its head; the body is read after).
    pub received: Instant,
    /// When its answer was handed back to the server to write.
    pub answered: Instant,
    /// Of that, the time spent waiting on the emulator: the rest is this proxy's own cost.
    pub upstream: Duration,
}

impl Call {
    pub fn duration(&self) -> Duration {
        self.answered - self.received
    }
}

#[derive(Debug)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    calls: Mutex<Vec<Call>>,
}

/// A running proxy; dropping it stops the server.
#[derive(Debug)]
pub struct RecordingProxy {
    shared: Arc<Shared>,
    pub url: String,
    server: JoinHandle<()>,
}

/// Headers that describe one hop's connection, not the message: never passed on.
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::HOST,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

impl RecordingProxy {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            // No system proxy: the emulator is on loopback.
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(std::io::Error::other)?,
            calls: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            shared,
            url,
            server,
        })
    }

    /// Opens the proxy's own connection to the emulator, so no measured call pays for it.
    pub async fn warm_up(&self) -> Result<(), reqwest::Error> {
        self.shared
            .http
            .get(&self.shared.upstream)
            .send()
            .await
            .map(drop)
    }

    /// The calls recorded since the last take.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.shared.calls.lock().expect("calls lock"))
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn operation(headers: &HeaderMap, method: &str, path: &str) -> String {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| format!("{method} {path}"), str::to_owned)
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let received = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let operation = operation(&parts.headers, parts.method.as_str(), parts.uri.path());
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let mut headers = parts.headers;
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    let sent = Instant::now();
    let answer = shared
        .http
        .request(parts.method, format!("{}{path}", shared.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let (status, headers, body) = match read(answer).await {
        Ok(answer) => answer,
        Err(error) => (
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            Bytes::from(error.to_string()),
        ),
    };
    let upstream = sent.elapsed();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    shared.calls.lock().expect("calls lock").push(Call {
        operation,
        status: status.as_u16(),
        received,
        answered: Instant::now(),
        upstream,
    });
    response
}

async fn read(
    answer: Result<reqwest::Response, reqwest::Error>,
) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
    let answer = answer?;
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    Ok((status, headers, answer.bytes().await?))
}

#[cfg(test)]
mod tests {
    use axum::routing::post;

    use super::*;

    /// An emulator that echoes the body back with a header of its own.
    async fn upstream() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new().route(
            "/",
            post(|body: Bytes| async move {
                (StatusCode::IM_A_TEAPOT, [("x-amzn-requestid", "r-1")], body)
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }

    #[tokio::test]
    async fn passes_calls_through_unchanged_and_records_each() {
        let proxy = RecordingProxy::start(&upstream().await).await.unwrap();
        proxy.warm_up().await.unwrap();
        let http = reqwest::Client::new();
        for target in [
            "DynamoDB_20120810.DescribeTable",
            "DynamoDB_20120810.GetItem",
        ] {
            let answer = http
                .post(format!("{}/", proxy.url))
                .header("x-amz-target", target)
                .body(format!("{{\"for\":\"{target}\"}}"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 418);
            assert_eq!(answer.headers()["x-amzn-requestid"], "r-1");
            assert_eq!(
                answer.text().await.unwrap(),
                format!("{{\"for\":\"{target}\"}}")
            );
        }
        let calls = proxy.take();
        let operations: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
        assert_eq!(
            operations,
            [
                "DynamoDB_20120810.DescribeTable",
                "DynamoDB_20120810.GetItem"
            ]
        );
        assert!(calls.iter().all(|c| c.status == 418));
        assert!(calls.iter().all(|c| c.upstream <= c.duration()));
        assert!(calls[0].answered <= calls[1].received);
        assert!(proxy.take().is_empty(), "a take empties the record");
    }

    #[tokio::test]
    async fn a_call_without_a_target_is_named_by_method_and_path() {
        let proxy = RecordingProxy::start(&upstream().await).await.unwrap();
        let answer = reqwest::Client::new()
            .post(format!("{}/?Action=SendMessage", proxy.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 418);
        assert_eq!(proxy.take()[0].operation, "POST /");
    }
}
