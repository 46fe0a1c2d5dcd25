//! The processes of one function. Like Lambda, an instance is started when an invocation finds
//! none idle (up to the function's concurrency), reused while it stays healthy, killed when an
//! invocation outlives the function's timeout, and replaced after it dies. Each instance runs
//! one revision of the code ([`versions`](super::versions)): a deploy starts new instances for
//! new calls, lets the calls in flight finish on the old ones, then stops those.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    net::TcpListener,
    process::Command,
    sync::{Semaphore, mpsc, oneshot, watch},
    task::JoinHandle,
};

use super::{
    Outcome,
    runtime_api::{Invocation, RuntimeApi},
    versions::{Code, Revision, Versions},
};
use crate::{
    faults::{Fault, Faults},
    logs::LogSink,
    monitoring::Monitoring,
};

/// Lambda's limit on a function's init phase.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Everything needed to run a function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The deployed name (`<stack>-<logical id>`).
    pub name: String,
    pub arn: String,
    /// The execution role's ARN.
    pub role: String,
    /// The code, variables, timeout and memory the stack starts with (`$LATEST`).
    pub binary: PathBuf,
    pub environment: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u32,
    /// Lambda's reserved variables besides the version and the memory size, which come from
    /// the revision an instance runs.
    pub reserved_environment: Vec<(String, String)>,
    pub max_instances: usize,
    pub async_invoke: AsyncInvokeSpec,
    /// `Tracing: Active`.
    pub traced: bool,
    /// `AutoPublishAlias`: version 1 is published at start and the alias points at it.
    pub alias: Option<String>,
}

/// How the function's asynchronous invocations are retried and where failed ones go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncInvokeSpec {
    pub max_retries: u32,
    pub max_event_age: Duration,
    /// URL of the SQS on-failure destination.
    pub on_failure: Option<String>,
}

#[derive(Debug)]
pub struct FunctionPool {
    spec: FunctionSpec,
    versions: Mutex<Versions>,
    permits: Semaphore,
    idle: Mutex<Vec<Instance>>,
    logs: LogSink,
    started: AtomicUsize,
    faults: Faults,
    monitoring: Monitoring,
}

impl FunctionPool {
    pub fn new(spec: FunctionSpec, logs: LogSink, faults: Faults, monitoring: Monitoring) -> Self {
        let code = Code::built(spec.binary.clone());
        Self::with_code(spec, code, logs, faults, monitoring)
    }

    /// A function whose first code is given (created through the Lambda API).
    pub fn with_code(
        spec: FunctionSpec,
        code: Code,
        logs: LogSink,
        faults: Faults,
        monitoring: Monitoring,
    ) -> Self {
        let mut versions = Versions::new(Revision::new(
            Arc::new(code),
            spec.environment.clone(),
            spec.timeout,
            spec.memory_mb,
        ));
        if let Some(alias) = &spec.alias {
            let published = versions.publish(None, None).map(|v| v.version.clone());
            if let Ok(version) = published {
                let _ = versions.create_alias(alias, &version, None);
            }
        }
        Self {
            versions: Mutex::new(versions),
            permits: Semaphore::new(spec.max_instances),
            spec,
            idle: Mutex::new(Vec::new()),
            logs,
            started: AtomicUsize::new(0),
            faults,
            monitoring,
        }
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// The function's versions and aliases, to read or change. A change takes effect for the
    /// next invocation; idle instances of code no qualifier reaches any more are stopped.
    pub fn versions<T>(&self, change: impl FnOnce(&mut Versions) -> T) -> T {
        let mut versions = self.versions.lock().expect("versions");
        let result = change(&mut versions);
        self.idle
            .lock()
            .expect("idle list")
            .retain(|instance| versions.reachable(instance.revision));
        result
    }

    /// Writes a line of devstack's own to the function's log, beside what its processes print.
    pub fn log(&self, line: &str) {
        self.logs
            .write(&self.spec.logical_id, &format!("devstack: {line}"));
    }

    /// How many processes this function has started so far (restarts included).
    pub fn instances_started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    /// Runs one invocation of the revision a qualifier names (`$LATEST` without one).
    pub async fn invoke(&self, qualifier: Option<&str>, payload: Bytes) -> Outcome {
        match self.versions(|versions| versions.resolve(qualifier)) {
            Ok(revision) => self.invoke_revision(revision, payload).await,
            Err(error) => Outcome::error(error.error_type(), &error.to_string()),
        }
    }

    /// Runs one invocation on an idle instance of the revision, or a new one, waiting while
    /// the function is at its concurrency limit; an injected fault may fail it, or lose its
    /// answer after the handler ran.
    pub async fn invoke_revision(&self, revision: Arc<Revision>, payload: Bytes) -> Outcome {
        let Ok(_permit) = self.permits.acquire().await else {
            return Outcome::error("ServiceException", "devstack is shutting down");
        };
        let concurrent = self.spec.max_instances - self.permits.available_permits();
        let started = std::time::Instant::now();
        let outcome = self.run_invocation(&revision, payload).await;
        self.monitoring.lambda_invocation(
            &self.spec.name,
            started.elapsed().as_secs_f64() * 1000.0,
            matches!(outcome, Outcome::Error { .. }),
            concurrent,
        );
        outcome
    }

    /// One invocation on an idle instance or a new one, with the fault armed for it.
    async fn run_invocation(&self, revision: &Arc<Revision>, payload: Bytes) -> Outcome {
        let fault = self
            .faults
            .fire(&self.spec.logical_id, &payload, Fault::is_invocation_fault);
        if fault == Some(Fault::Fail) {
            return Outcome::error(
                "Devstack.InjectedFault",
                "devstack failed this invocation (injected fault)",
            );
        }
        let instance = match self.take_idle(revision.id) {
            Some(instance) => instance,
            None => match self.start_instance(revision).await {
                Ok(instance) => instance,
                Err(error) => {
                    return Outcome::error(
                        "Runtime.StartError",
                        &format!("cannot start {}: {error}", revision.code.binary.display()),
                    );
                }
            },
        };
        let (outcome, healthy) = instance.run(payload, &self.spec, revision).await;
        match fault {
            // The instance is dropped, which kills its process, as a crash or a timeout would.
            Some(Fault::CrashAfterWork) => {
                self.log("process killed after its handler ran (injected fault)");
                return Outcome::error(
                    "Runtime.ExitError",
                    "the function's process exited: killed by devstack after the handler ran (injected fault)",
                );
            }
            Some(Fault::TimeoutAfterWork) => {
                self.log("answer withheld as a timeout after its handler ran (injected fault)");
                return Outcome::error(
                    "Sandbox.Timedout",
                    &format!(
                        "Task timed out after {:.2} seconds (injected fault)",
                        revision.timeout.as_secs_f64()
                    ),
                );
            }
            _ => {}
        }
        // An instance of code that a deploy made unreachable while it ran is dropped (stopped).
        if healthy && self.versions(|versions| versions.reachable(instance.revision)) {
            self.idle.lock().expect("idle list").push(instance);
        }
        outcome
    }

    fn take_idle(&self, revision: u64) -> Option<Instance> {
        let mut idle = self.idle.lock().expect("idle list");
        idle.retain(Instance::alive);
        let position = idle.iter().rposition(|i| i.revision == revision)?;
        Some(idle.swap_remove(position))
    }

    async fn start_instance(&self, revision: &Revision) -> std::io::Result<Instance> {
        let number = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (api, sender) = RuntimeApi::new();
        let router = api.router();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });

        let mut child = Command::new(&revision.code.binary)
            .envs(self.spec.reserved_environment.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_FUNCTION_VERSION", &revision.version)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                revision.memory_mb.to_string(),
            )
            .envs(&revision.environment)
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("instance-{number}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = self.logs.clone();
            let name = self.spec.logical_id.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    logs.write(&name, &line);
                }
            });
        }

        let (exit_tx, exit_rx) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel::<()>();
        let logs = self.logs.clone();
        let name = self.spec.logical_id.clone();
        let api_for_exit = api.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                _ = kill_rx => {
                    let _ = child.kill().await;
                    "killed by devstack".to_owned()
                }
            };
            let init_error = api_for_exit.init_error().await;
            let description = match init_error {
                Some(error) => format!("{status}; init error: {error}"),
                None => status,
            };
            logs.write(
                &name,
                &format!("devstack: instance {number} exited: {description}"),
            );
            let _ = exit_tx.send(Some(description));
        });

        Ok(Instance {
            revision: revision.id,
            sender,
            exited: exit_rx,
            kill: Some(kill_tx),
            server,
        })
    }
}

#[derive(Debug)]
struct Instance {
    revision: u64,
    sender: mpsc::Sender<Invocation>,
    exited: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl Instance {
    fn alive(&self) -> bool {
        self.exited.borrow().is_none()
    }

    /// Runs one invocation; the flag says whether the instance can take another.
    ///
    /// Lambda's timeout covers the invocation, not the process's init: the clock starts when
    /// the runtime takes the invocation from `next`. Init has a limit of its own
    /// ([`INIT_LIMIT`]), as in Lambda.
    async fn run(
        &self,
        payload: Bytes,
        spec: &FunctionSpec,
        revision: &Revision,
    ) -> (Outcome, bool) {
        let (reply, outcome) = oneshot::channel();
        let (taken_tx, taken) = oneshot::channel();
        let request_id = uuid::Uuid::new_v4().to_string();
        let invocation = Invocation {
            trace_id: super::runtime_api::trace_header(&request_id, spec.traced),
            request_id,
            payload,
            timeout: revision.timeout,
            function_arn: spec.arn.clone(),
            taken: taken_tx,
            reply,
        };
        if self.sender.send(invocation).await.is_err() {
            return (
                Outcome::error("Runtime.ExitError", "the runtime API is gone"),
                false,
            );
        }
        let mut exited = self.exited.clone();
        tokio::select! {
            result = taken => if result.is_err() {
                return (Outcome::error("Runtime.ExitError", "the invocation was dropped"), false);
            },
            () = tokio::time::sleep(INIT_LIMIT) => return (
                Outcome::error(
                    "Sandbox.Timedout",
                    &format!("init did not finish within {} seconds", INIT_LIMIT.as_secs()),
                ),
                false,
            ),
            _ = exited.wait_for(Option::is_some) => return self.exit_outcome(),
        }
        tokio::select! {
            outcome = outcome => match outcome {
                Ok(outcome) => (outcome, true),
                Err(_) => (Outcome::error("Runtime.ExitError", "the invocation was dropped"), false),
            },
            () = tokio::time::sleep(revision.timeout) => (
                Outcome::error(
                    "Sandbox.Timedout",
                    &format!("Task timed out after {:.2} seconds", revision.timeout.as_secs_f64()),
                ),
                false,
            ),
            _ = exited.wait_for(Option::is_some) => self.exit_outcome(),
        }
    }

    fn exit_outcome(&self) -> (Outcome, bool) {
        let description = self.exited.borrow().clone().unwrap_or_default();
        (
            Outcome::error(
                "Runtime.ExitError",
                &format!("the function's process exited: {description}"),
            ),
            false,
        )
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        self.server.abort();
    }
}
