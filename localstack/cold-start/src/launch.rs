//! One cold start: a fresh process of a function's binary, started as Lambda starts one,
//! served one invocation, then killed.

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::Command,
    task::JoinHandle,
};

use crate::{
    proxy::{Call, RecordingProxy},
    runtime_api::{Invocation, OneInvocation, Outcome},
};

/// A process to start: its binary and the environment Lambda would give it.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: PathBuf,
    /// Every variable the process gets: it inherits nothing from the host (as on Lambda).
    pub environment: Vec<(String, String)>,
    pub invocation: Invocation,
    /// How long to wait for the answer before calling the run failed.
    pub patience: Duration,
}

/// What one cold start took, every instant counted from the exec.
#[derive(Debug, Clone)]
pub struct ColdStart {
    /// Exec → the first `next` request.
    pub init: Duration,
    /// Exec → the response posted.
    pub first_response: Duration,
    /// The AWS calls made on the way, in order, as (start, end, upstream share) from exec.
    pub calls: Vec<TimedCall>,
    /// What the process printed, each line with when the host read it.
    pub lines: Vec<(Duration, String)>,
    pub response: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct TimedCall {
    pub operation: String,
    pub status: u16,
    pub start: Duration,
    pub end: Duration,
    pub upstream: Duration,
}

impl TimedCall {
    fn from_exec(exec: Instant, call: Call) -> Self {
        Self {
            start: call.received.saturating_duration_since(exec),
            end: call.answered.saturating_duration_since(exec),
            upstream: call.upstream,
            status: call.status,
            operation: call.operation,
        }
    }

    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot start {binary}")]
    Spawn {
        binary: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serve the Runtime API")]
    RuntimeApi(#[source] std::io::Error),
    #[error("the process gave no answer within {patience:?}; its last lines:\n{lines}")]
    NoAnswer { patience: Duration, lines: String },
    #[error("the process answered with {outcome:?}; its last lines:\n{lines}")]
    Failed { outcome: Outcome, lines: String },
}

type Lines = Arc<Mutex<Vec<(Instant, String)>>>;

fn read_lines(stream: impl AsyncRead + Unpin + Send + 'static, lines: Lines) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            let read = Instant::now();
            lines.lock().expect("lines lock").push((read, line));
        }
    })
}

/// Starts the process, serves it `launch.invocation`, and times it.
pub async fn cold_start(launch: &Launch, proxy: &RecordingProxy) -> Result<ColdStart, LaunchError> {
    let mut api = OneInvocation::serve(launch.invocation.clone())
        .await
        .map_err(LaunchError::RuntimeApi)?;
    let mut command = Command::new(&launch.binary);
    command
        .env_clear()
        .envs(launch.environment.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    drop(proxy.take());
    let exec = Instant::now();
    let mut child = command.spawn().map_err(|source| LaunchError::Spawn {
        binary: launch.binary.display().to_string(),
        source,
    })?;
    let lines: Lines = Arc::default();
    let readers = [
        child.stdout.take().map(|s| read_lines(s, lines.clone())),
        child.stderr.take().map(|s| read_lines(s, lines.clone())),
    ];
    let outcome = api
        .answered(async {
            // Ends the wait early when the process dies without answering.
            let _ = tokio::time::timeout(launch.patience, child.wait()).await;
        })
        .await;
    let calls = proxy.take();
    let _ = child.kill().await;
    // A process that left a child of its own behind keeps the pipes open: read what is there,
    // then stop waiting.
    for reader in readers.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    }
    let lines: Vec<(Duration, String)> = std::mem::take(&mut *lines.lock().expect("lines lock"))
        .into_iter()
        .map(|(at, line)| (at.saturating_duration_since(exec), line))
        .collect();
    let marks = api.marks();
    let (Some(Outcome::Response(body)), Some(next), Some(answered)) =
        (outcome.clone(), marks.next, marks.answered)
    else {
        let lines = tail(&lines);
        return Err(match outcome {
            None => LaunchError::NoAnswer {
                patience: launch.patience,
                lines,
            },
            Some(outcome) => LaunchError::Failed { outcome, lines },
        });
    };
    Ok(ColdStart {
        init: next - exec,
        first_response: answered - exec,
        calls: calls
            .into_iter()
            .map(|call| TimedCall::from_exec(exec, call))
            .collect(),
        lines,
        response: body.to_vec(),
    })
}

fn tail(lines: &[(Duration, String)]) -> String {
    let start = lines.len().saturating_sub(20);
    lines[start..]
        .iter()
        .map(|(_, line)| line.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
