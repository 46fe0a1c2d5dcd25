//! The AWS emulator: a moto server started from the project's venv, or one given by endpoint.

use std::{path::Path, process::Stdio, time::Duration};

use tokio::process::{Child, ChildStdin, Command};

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(
        "moto is not installed at {0}; install it with `make venv` (python3 -m venv .venv && .venv/bin/pip install -r localstack/requirements.txt)"
    )]
    NotInstalled(String),
    #[error("cannot start moto: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("the emulator at {endpoint} did not answer within {seconds} s")]
    NotReady { endpoint: String, seconds: u64 },
    #[error("cannot configure the emulator: {0}")]
    Configure(#[source] reqwest::Error),
}

/// An `Authorization` header naming `service`: how moto tells which service a request on its
/// one port is for (it checks no signature). For calls made without an SDK client.
pub fn scope_header(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=devstack/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
        crate::REGION
    )
}

/// The command that runs the project's moto on `port` under a watchdog: a small shell that
/// kills moto as soon as the shell's stdin (piped by the caller) closes, so moto never outlives
/// whoever started it, however that process ends. moto starts through
/// `localstack/moto/launcher.py`, which patches where moto breaks consumers written for AWS
/// (see the launcher's documentation).
pub fn moto_command(workspace: &Path, port: u16) -> Result<std::process::Command, EmulatorError> {
    let python = workspace.join(".venv/bin/python");
    if !workspace.join(".venv/bin/moto_server").exists() {
        return Err(EmulatorError::NotInstalled(python.display().to_string()));
    }
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(r#""$@" >/dev/null 2>&1 & child=$!; read -r _; kill "$child"; wait "$child""#)
        .arg("moto-watchdog")
        .arg(&python)
        .arg(workspace.join("localstack/moto/launcher.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped());
    Ok(command)
}

/// A running emulator. A moto process started here is stopped when this is dropped, and also
/// when devstack itself dies (see [`moto_command`]).
#[derive(Debug)]
pub struct Emulator {
    pub endpoint: String,
    process: Option<(Child, ChildStdin)>,
}

impl Emulator {
    /// Starts moto on `port`. moto's Step Functions interpreter calls Lambda (and every other
    /// service integration) at `http://localhost:$MOTO_PORT`, so that is set to the edge port,
    /// where devstack answers the Invoke API.
    pub async fn start(workspace: &Path, port: u16, edge_port: u16) -> Result<Self, EmulatorError> {
        let mut command = Command::from(moto_command(workspace, port)?);
        let mut child = command
            .env("MOTO_PORT", edge_port.to_string())
            .kill_on_drop(true)
            .spawn()
            .map_err(EmulatorError::Spawn)?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let emulator = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            process: Some((child, stdin)),
        };
        emulator.wait_ready(Duration::from_mins(1)).await?;
        emulator.enable_step_functions().await?;
        Ok(emulator)
    }

    /// Uses an emulator that is already running (moto or LocalStack).
    pub async fn external(endpoint: &str) -> Result<Self, EmulatorError> {
        let emulator = Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            process: None,
        };
        emulator.wait_ready(Duration::from_secs(10)).await?;
        // Only moto has this switch; LocalStack runs state machines anyway.
        let _ = emulator.enable_step_functions().await;
        Ok(emulator)
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), EmulatorError> {
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if client.get(&self.endpoint).send().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(EmulatorError::NotReady {
            endpoint: self.endpoint.clone(),
            seconds: limit.as_secs(),
        })
    }

    /// moto runs state machines only when asked, and only those created after asking.
    async fn enable_step_functions(&self) -> Result<(), EmulatorError> {
        reqwest::Client::new()
            .post(format!("{}/moto-api/config", self.endpoint))
            .json(&serde_json::json!({"stepfunctions": {"execute_state_machine": true}}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(EmulatorError::Configure)?;
        Ok(())
    }

    /// Stops a moto this value started.
    pub async fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.process.take() {
            drop(stdin);
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
            let _ = child.kill().await;
        }
    }
}
