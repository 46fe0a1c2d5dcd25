//! The system under test: the shop's public HTTP API and the AWS endpoint behind it.
//!
//! By default the first test of a process boots devstack (with `fixtures/test-stack.yaml`
//! merged in) on free ports and every test of the process shares it, calling its API over
//! HTTPS with a client that trusts devstack's local CA alone ([`System::http`]); it stops when
//! the process ends. With `SHOP_API_URL` and `SHOP_STACK_FILE` (the `stack.json` devstack
//! writes) set, the same tests run against a stack that is already up: with `AWS_ENDPOINT_URL`
//! too, one on an emulator; without it, a deployed stage, called with the environment's own AWS
//! credentials and the OS's trusted roots (`tests/stage.py` writes its stack file and runs the
//! tests that can run there).

pub mod cost;
pub mod fuzz;

use std::{
    path::{Path, PathBuf},
    sync::{OnceLock, mpsc},
};

use aws_config::SdkConfig;
use devstack::{
    provision::CognitoClient,
    seed,
    stack::{Options, Stack},
};
use serde_json::Value;

/// The lockout settings devstack is started with (`external` stacks must use the same).
pub const LOGIN_MAX_FAILURES: u32 = 3;
pub const LOGIN_WINDOW_SECONDS: u64 = 4;

/// Instances of the auth HTTP function devstack may run at once: enough for every request of
/// the concurrent-login test to meet its own instance, as on AWS.
pub const AUTH_CONCURRENCY: usize = 20;

/// How long shipping holds each OrderConfirmed on the test stack: the window in which a
/// confirmed order can still be cancelled.
pub const SHIPPING_HOLD_MS: u64 = 3000;

/// Which certificates the tests accept from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiTrust {
    /// devstack's local CA and nothing else, so the test proves the API's certificate is the
    /// one devstack issued.
    LocalCa(PathBuf),
    /// The operating system's roots (a stage's API Gateway certificate), plus the local CA a
    /// devstack stack file names, if it names one.
    SystemRoots(Option<PathBuf>),
}

/// `STANDARD` or `EXPRESS`: the place-order saga's workflow type on the devstack the tests
/// boot (the template's `SagaWorkflowType`; its default when unset).
pub const SAGA_WORKFLOW_ENV: &str = "SHOP_SAGA_WORKFLOW";

/// What a test needs to know about the running system.
#[derive(Debug, Clone)]
pub struct System {
    /// The API as clients call it: over HTTPS (devstack's TLS listener, or a stage).
    pub api_url: String,
    /// The API URL the stack publishes (template outputs, `/shop/<stage>/api/url`): on
    /// devstack its plain-HTTP listener, which the functions inside the stack call; on a stage
    /// `api_url`.
    pub published_api_url: String,
    /// What [`System::http`] trusts.
    pub trust: ApiTrust,
    /// The emulator's AWS endpoint (devstack's edge); `None` for a deployed stage, whose AWS
    /// APIs are AWS's own.
    pub aws_endpoint: Option<String>,
    pub region: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    pub admin_token: String,
    pub customer_token: String,
    /// Deployed functions are named `<stack_name>-<LogicalId>`.
    pub stack_name: String,
    /// Where function logs are written (devstack only).
    pub log_dir: Option<PathBuf>,
    /// The place-order saga's ARN when the stack file names it: a deployed stage's state
    /// machine has a generated name, which no listing by logical id finds.
    pub place_order_state_machine: Option<String>,
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The system every test of this process talks to, started on first use.
pub fn system() -> &'static System {
    static SYSTEM: OnceLock<System> = OnceLock::new();
    SYSTEM.get_or_init(|| match std::env::var("SHOP_API_URL") {
        Ok(api_url) => external(api_url),
        Err(_) => start_devstack(),
    })
}

fn external(api_url: String) -> System {
    let stack_file =
        std::env::var("SHOP_STACK_FILE").expect("SHOP_STACK_FILE names devstack's stack.json");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(stack_file).expect("read the stack file"))
            .expect("the stack file is JSON");
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    System {
        published_api_url: state["api_url"]
            .as_str()
            .map_or_else(|| api_url.clone(), str::to_owned),
        trust: ApiTrust::SystemRoots(state["ca_file"].as_str().map(PathBuf::from)),
        api_url,
        aws_endpoint: std::env::var("AWS_ENDPOINT_URL").ok(),
        region: text(&state["region"]),
        user_pool_id: text(&state["user_pool_id"]),
        user_pool_client_id: text(&state["user_pool_client_id"]),
        admin_token: text(&state["admin"]["access_token"]),
        customer_token: text(&state["customer"]["access_token"]),
        stack_name: std::env::var("SHOP_STACK_NAME").unwrap_or_else(|_| "shop-local".to_owned()),
        log_dir: None,
        place_order_state_machine: state["place_order_state_machine"]
            .as_str()
            .map(str::to_owned),
    }
}

/// Boots devstack on a runtime of its own (tests each have theirs, and the stack must outlive
/// them), seeds it, and hands back its endpoints. The stack runs until the process exits:
/// moto dies with its watchdog, function processes when their Runtime API goes away.
fn start_devstack() -> System {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
        runtime.block_on(async move {
            let workspace = workspace();
            let mut options = Options::new(&workspace);
            options
                .templates
                .push(workspace.join("tests/fixtures/test-stack.yaml"));
            options.echo_logs = false;
            // `make test` builds every function in the same `cargo test --workspace` run and
            // says so; a build here would use other features and rebuild the dependencies.
            options.build = std::env::var_os("DEVSTACK_NO_BUILD").is_none();
            options.log_dir =
                workspace.join(format!("target/devstack/test-logs-{}", std::process::id()));
            // Every metric this stack receives, for `devstack metrics-coverage` after the run.
            options.metrics_seen = Some(workspace.join("target/devstack/metrics-seen"));
            // A short lockout window, so the lockout tests can see it end.
            options.parameters.insert(
                "LoginMaxFailures".to_owned(),
                LOGIN_MAX_FAILURES.to_string(),
            );
            options.parameters.insert(
                "LoginWindowSeconds".to_owned(),
                LOGIN_WINDOW_SECONDS.to_string(),
            );
            options
                .function_concurrency
                .insert("AuthHttpFunction".to_owned(), AUTH_CONCURRENCY);
            options
                .parameters
                .insert("EnableTestHooks".to_owned(), "true".to_owned());
            options.parameters.insert(
                "TestShippingHoldMs".to_owned(),
                SHIPPING_HOLD_MS.to_string(),
            );
            // The saga suite runs on either workflow type (`make saga-express`).
            if let Ok(workflow) = std::env::var(SAGA_WORKFLOW_ENV) {
                options
                    .parameters
                    .insert("SagaWorkflowType".to_owned(), workflow);
            }
            let log_dir = options.log_dir.clone();
            let stack_name = options.stack_name.clone();
            let stack = match Stack::start(options, |_| {}).await {
                Ok(stack) => stack,
                Err(error) => {
                    let _ = sender.send(Err(error.to_string()));
                    return;
                }
            };
            // devstack's own lines (lost events, discarded records, injected faults) beside the
            // functions' logs, which the stack's start has just cleared.
            if let Ok(file) = std::fs::File::create(log_dir.join("devstack.log")) {
                let _ = tracing_subscriber::fmt()
                    .with_env_filter(tracing_subscriber::EnvFilter::new(
                        "devstack=info,devstack::sources::streams=debug",
                    ))
                    .with_writer(std::sync::Mutex::new(file))
                    .with_ansi(false)
                    .try_init();
            }
            let cognito = CognitoClient::new(
                &config(Some(&stack.endpoints.emulator_url), devstack::REGION).await,
            );
            let seeded = match seed::seed(&stack.endpoints, &cognito).await {
                Ok(seeded) => seeded,
                Err(error) => {
                    let _ = sender.send(Err(error.to_string()));
                    return;
                }
            };
            let endpoints = &stack.endpoints;
            let _ = sender.send(Ok(System {
                api_url: endpoints.https_url.clone(),
                published_api_url: endpoints.api_url.clone(),
                trust: ApiTrust::LocalCa(endpoints.ca_file.clone()),
                aws_endpoint: Some(endpoints.edge_url.clone()),
                region: endpoints.region.clone(),
                user_pool_id: endpoints.user_pool_id.clone().unwrap_or_default(),
                user_pool_client_id: endpoints.user_pool_client_id.clone().unwrap_or_default(),
                admin_token: seeded.admin.access_token,
                customer_token: seeded.customer.access_token,
                stack_name,
                log_dir: Some(log_dir),
                place_order_state_machine: None,
            }));
            std::future::pending::<()>().await;
            drop(stack);
        });
    });
    match receiver.recv().expect("devstack reports how it started") {
        Ok(system) => system,
        Err(error) => panic!("devstack did not start: {error}"),
    }
}

async fn config(endpoint: Option<&str>, region: &str) -> SdkConfig {
    let loader = shop_aws::loader().region(aws_config::Region::new(region.to_owned()));
    match endpoint {
        // An emulator takes any signature; real credentials must not even be looked for.
        Some(endpoint) => {
            loader
                .endpoint_url(endpoint)
                .test_credentials()
                .load()
                .await
        }
        // A deployed stage: the caller's credentials from the environment (the CI job's role).
        None => loader.load().await,
    }
}

impl System {
    /// SDK configuration for the system's AWS endpoint. Build clients inside each test.
    pub async fn sdk_config(&self) -> SdkConfig {
        config(self.aws_endpoint.as_deref(), &self.region).await
    }

    /// devstack's edge, for what only devstack answers (its counters, faults, the Invoke API
    /// by function name, moto's unsigned calls). A test that calls it cannot run against a
    /// deployed stage, and says so instead of failing on a bad URL.
    pub fn edge(&self) -> &str {
        self.aws_endpoint
            .as_deref()
            .expect("this test needs devstack's edge (AWS_ENDPOINT_URL); a deployed stage has none")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_url)
    }

    /// The HTTP client every test calls the API and the edge with: it accepts only the API
    /// certificates [`System::trust`] names. A new one per call: a client's pooled connections
    /// belong to the runtime that opened them, and each test has its own.
    pub fn http(&self) -> reqwest::Client {
        let read_ca = |path: &Path| {
            let pem = std::fs::read(path)
                .unwrap_or_else(|e| panic!("read the CA file {}: {e}", path.display()));
            reqwest::Certificate::from_pem(&pem).expect("the CA file holds a PEM certificate")
        };
        let builder = reqwest::Client::builder().user_agent("shop-system-tests");
        let builder = match &self.trust {
            ApiTrust::LocalCa(ca) => builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(read_ca(ca)),
            ApiTrust::SystemRoots(Some(ca)) => builder.add_root_certificate(read_ca(ca)),
            ApiTrust::SystemRoots(None) => builder,
        };
        builder.build().expect("an HTTP client")
    }

    /// The local CA schemathesis and other tools must trust; `None` when the OS's roots do.
    pub fn local_ca(&self) -> Option<&Path> {
        match &self.trust {
            ApiTrust::LocalCa(ca) => Some(ca),
            ApiTrust::SystemRoots(_) => None,
        }
    }

    /// Waits (up to a minute) for an event the fixture's recorder function received that
    /// satisfies `wanted`, and returns it as EventBridge delivered it.
    pub async fn wait_for_recorded_event(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        let tables = dynamodb.list_tables().send().await.expect("list tables");
        let table = tables
            .table_names()
            .iter()
            .find(|name| name.ends_with("-RecorderTable"))
            .expect("the fixture's recorder table");
        let started = std::time::Instant::now();
        loop {
            let items = dynamodb
                .scan()
                .table_name(table)
                .send()
                .await
                .expect("scan the recorder table");
            let found = items
                .items()
                .iter()
                .filter_map(|item| item.get("event")?.as_s().ok())
                .filter_map(|event| serde_json::from_str::<Value>(event).ok())
                .find(|event| wanted(event));
            if let Some(event) = found {
                return event;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_mins(1),
                "the awaited event never reached the recorder function"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Invokes a function of the template through the Lambda Invoke API, as Step Functions or
    /// `aws lambda invoke` would; returns the payload, or the error document as `Err`.
    pub async fn invoke(&self, logical_id: &str, payload: &Value) -> Result<Value, Value> {
        let url = format!(
            "{}/2015-03-31/functions/{}-{logical_id}/invocations",
            self.edge(),
            self.stack_name
        );
        let response = self
            .http()
            .post(url)
            .json(payload)
            .send()
            .await
            .expect("the Invoke API answers");
        assert_eq!(response.status(), 200, "invoking {logical_id}");
        let failed = response.headers().contains_key("x-amz-function-error");
        let body: Value = response.json().await.expect("a JSON payload");
        if failed { Err(body) } else { Ok(body) }
    }

    /// devstack's counters (`GET /_devstack/counters` on the edge), e.g.
    /// `counter("AsyncLost", "LossyRecorderFunction")`.
    pub async fn counter(&self, counter: &str, scope: &str) -> u64 {
        let counters: Value = self
            .http()
            .get(format!("{}/_devstack/counters", self.edge()))
            .send()
            .await
            .expect("devstack's edge answers")
            .json()
            .await
            .expect("counters are JSON");
        counters[counter][scope].as_u64().unwrap_or_default()
    }

    /// Per function, the grants of its role no call has used yet (`GET /_devstack/iam/unused`).
    pub async fn unused_grants(&self) -> Value {
        self.http()
            .get(format!("{}/_devstack/iam/unused", self.edge()))
            .send()
            .await
            .expect("devstack's edge answers")
            .json()
            .await
            .expect("the report is JSON")
    }

    /// The URL of one of the stack's queues, by logical id.
    pub async fn queue_url(&self, logical_id: &str) -> String {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
            .get_queue_url()
            .queue_name(format!("{}-{logical_id}", self.stack_name))
            .send()
            .await
            .expect("the queue exists")
            .queue_url
            .expect("a queue URL")
    }

    /// Waits (up to 40 s) for a JSON message in a queue (by logical id) that satisfies
    /// `wanted`, and returns it. Messages it reads come back after the queue's visibility
    /// timeout.
    pub async fn wait_for_message(
        &self,
        logical_id: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config().await);
        let url = self.queue_url(logical_id).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&url)
                .wait_time_seconds(1)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive from the queue");
            let found = received
                .messages()
                .iter()
                .filter_map(|m| serde_json::from_str::<Value>(m.body().unwrap_or_default()).ok())
                .find(|message| wanted(message));
            if let Some(message) = found {
                return message;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no awaited message reached {logical_id}"
            );
        }
    }

    /// Arms a fault on the running stack (devstack's `faults::FaultSpec`): `fault` is e.g.
    /// `json!({"type": "fail"})`; it applies to `times` invocations or deliveries of
    /// `function` whose payload contains `marker`. Returns the fault's id, whose
    /// `FaultFired` counter says how often it fired.
    pub async fn arm_fault(
        &self,
        function: &str,
        marker: &str,
        fault: Value,
        times: u32,
    ) -> String {
        let armed: Value = self
            .http()
            .post(format!("{}/_devstack/faults", self.edge()))
            .json(&serde_json::json!({"function": function, "marker": marker, "fault": fault, "times": times}))
            .send()
            .await
            .expect("devstack's edge answers")
            .json()
            .await
            .expect("the fault's id");
        armed["id"].as_str().expect("an id").to_owned()
    }

    /// Sends what waits in one failure queue (by logical id) back to its source, as
    /// `make redrive` does.
    pub async fn redrive(&self, queue: &str) -> devstack::redrive::Report {
        let mut templates = vec![workspace().join("infra/template.yaml")];
        templates.push(workspace().join("tests/fixtures/test-stack.yaml"));
        let template = devstack::template::Template::load(&templates).expect("the templates load");
        let source = devstack::redrive::sources(&template)
            .expect("the failure queues")
            .into_iter()
            .find(|s| s.queue == queue)
            .unwrap_or_else(|| panic!("{queue} is no failure queue of the template"));
        let config = self.sdk_config().await;
        let redriver = devstack::redrive::Redriver {
            sqs: aws_sdk_sqs::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            streams: aws_sdk_dynamodbstreams::Client::new(&config),
            http: self.http(),
            edge_url: self.edge().to_owned(),
            stack_name: self.stack_name.clone(),
        };
        redriver.redrive(&source).await.expect("the redrive runs")
    }

    /// The issuer the gateway trusts.
    pub fn issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.region, self.user_pool_id
        )
    }
}

/// A JWT with `claims`, signed with the emulator's pool key (`forged_signature = false`, so only
/// the claims can be wrong) or with another key under the same key id.
pub fn mint_token(claims: &Value, forged_signature: bool) -> String {
    let workspace = workspace();
    let output = std::process::Command::new(workspace.join(".venv/bin/python"))
        .arg(workspace.join("tests/fixtures/mint_token.py"))
        .arg(claims.to_string())
        .arg(if forged_signature {
            "other-key"
        } else {
            "pool-key"
        })
        .output()
        .expect("run mint_token.py from the project venv");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("a token is ASCII")
        .trim()
        .to_owned()
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
    .unwrap_or(i64::MAX)
}
