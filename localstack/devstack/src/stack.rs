//! The whole local stack: build the functions, start the emulator, provision the template,
//! and run the edge, the gateway, the functions and the event sources.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::Duration,
};

use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    cargo::{self, BuildError},
    counters::Counters,
    edge::{AppClients, Edge},
    emulator::{Emulator, EmulatorError},
    execution_logs::{self, ExecutionLogs},
    faults::Faults,
    gateway::{Authorizer, Cors, Gateway, Route, RouteTable},
    iam::{self, ExecutionRoles, Role},
    lambda::{AsyncContext, FunctionPool, FunctionSpec, Lambda},
    logs::LogSink,
    monitoring::{MetricStore, Monitoring, Watch, coverage::SeenLog, pollers},
    plan::Plan,
    provision::{self, Clients, Delivery, ProvisionError},
    sources::{rules, streams},
    template::{Attribute, Resolver, ResourceKind, Template, TemplateError},
    tls::{LocalTls, TlsError, TlsListener},
};

#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (where `Cargo.toml`, `infra/` and `.venv/` are).
    pub workspace: PathBuf,
    /// `infra/template.yaml`, then any overlays (e.g. test fixtures).
    pub templates: Vec<PathBuf>,
    /// Use this emulator instead of starting moto.
    pub endpoint: Option<String>,
    /// Port of the HTTP API (0: any free port).
    pub api_port: u16,
    /// Port of the same API over TLS (0: any free port).
    pub https_port: u16,
    /// Where the local CA and the API's server certificate are kept (see [`crate::tls`]).
    pub tls_dir: PathBuf,
    /// Port of the edge (0: any free port).
    pub edge_port: u16,
    pub stack_name: String,
    pub parameters: HashMap<String, String>,
    /// Most instances of one function running at once.
    pub concurrency: usize,
    /// Functions (by logical id) allowed another number of instances than `concurrency`: a
    /// test that races requests against one function needs as many instances as AWS would
    /// give it, while the rest of the stack stays small.
    pub function_concurrency: HashMap<String, usize>,
    /// Build the functions with `cargo build` first; otherwise use what is in the target dir.
    pub build: bool,
    pub release: bool,
    /// Print function logs on stdout (they always go to files in `log_dir`).
    pub echo_logs: bool,
    pub log_dir: PathBuf,
    /// AWS's waits (asynchronous retries one and two minutes apart, event and record ages)
    /// are divided by this, so tests see AWS's counts and order in seconds.
    pub time_scale: u32,
    /// Write every metric the stack receives to a file in this folder (the coverage check).
    pub metrics_seen: Option<PathBuf>,
}

impl Options {
    pub fn new(workspace: &Path) -> Self {
        Self {
            workspace: workspace.to_path_buf(),
            templates: vec![workspace.join("infra/template.yaml")],
            endpoint: None,
            api_port: 0,
            https_port: 0,
            tls_dir: workspace.join("target/devstack/tls"),
            edge_port: 0,
            stack_name: "shop-local".to_owned(),
            // A local stage confirms sign-ups without the emailed code.
            parameters: HashMap::from([
                ("Stage".to_owned(), "local".to_owned()),
                ("AutoConfirmSignUps".to_owned(), "true".to_owned()),
            ]),
            concurrency: 4,
            function_concurrency: HashMap::new(),
            build: true,
            release: false,
            echo_logs: true,
            log_dir: workspace.join("target/devstack/logs"),
            time_scale: 60,
            metrics_seen: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error("building the functions failed")]
    Build(#[from] BuildError),
    #[error(
        "{0}: the function's binary is missing; build it with `cargo build --workspace --bins`"
    )]
    MissingBinary(String),
    #[error("cannot listen on 127.0.0.1:{port}")]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot prepare the log folder")]
    Logs(#[source] std::io::Error),
    #[error("cannot prepare the HTTPS certificates")]
    Tls(#[from] TlsError),
}

/// Where devstack behaves differently from AWS beyond the resources it accepts without
/// emulating (those are listed per resource by [`Template::not_emulated`]). The banner prints
/// both, so a difference is never a surprise.
pub const LOCAL_DIFFERENCES: &[&str] = &[
    "IAM: functions' calls are checked against their own policies (the template's Policies and SAM's SQSSendMessagePolicy; other SAM policy templates and managed policies grant nothing locally), but state machines' calls are not",
    "API throttling (DefaultRouteSettings) is not applied, and the API writes no access log (AccessLogSettings)",
    "a function at its concurrency limit (--concurrency) makes further invocations wait instead of throttling them (AWS answers TooManyRequestsException, and retries asynchronous events)",
    "rule targets without a RetryPolicy get 3 attempts with seconds of backoff (AWS: 185 over 24 hours)",
    "scheduled rules (Schedule events, rate(...) only) are fired by devstack, not created on the emulator; each fires 5 s after start-up, then every period",
    "a state machine's execution log (Logging) is written once the execution has ended, all its events at once (AWS writes each as it happens); Express executions are named, listed and described like Standard ones (AWS does none of it)",
];

/// What tests observe and perturb the stack with: the counters, the injected faults, and the
/// factor AWS's waits are divided by.
#[derive(Debug, Clone)]
pub struct Controls {
    pub counters: Counters,
    pub faults: Faults,
    pub time_scale: u32,
    /// Woken whenever a DynamoDB write to a table passes the edge, so the table's idle stream
    /// pollers look again at once instead of polling moto on a short timer.
    pub table_writes: crate::activity::TableWrites,
    /// Any call that may change a queue, an execution or a bus, for the other idle pollers.
    pub activity: crate::activity::Activity,
    /// The metrics CloudWatch would have.
    pub monitoring: Monitoring,
}

impl Controls {
    pub fn new(time_scale: u32, monitoring: Monitoring) -> Self {
        let counters = Counters::default();
        Self {
            faults: Faults::new(counters.clone()),
            counters,
            time_scale,
            table_writes: crate::activity::TableWrites::default(),
            activity: crate::activity::Activity::default(),
            monitoring,
        }
    }
}

/// What the running stack offers.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The HTTP API over plain HTTP: what the template's outputs and parameters name, so
    /// functions in the stack call it without trusting the local CA.
    pub api_url: String,
    /// The same API over TLS, as clients reach API Gateway.
    pub https_url: String,
    /// The local CA that issued the HTTPS listener's certificate.
    pub ca_file: PathBuf,
    pub edge_url: String,
    pub emulator_url: String,
    pub user_pool_id: Option<String>,
    pub user_pool_client_id: Option<String>,
    pub region: String,
}

#[derive(Debug)]
pub struct Stack {
    pub endpoints: Endpoints,
    pub lambda: Lambda,
    pub resolver: Resolver,
    /// Template resources accepted without local effect, then [`LOCAL_DIFFERENCES`].
    pub notes: Vec<String>,
    pub logs: LogSink,
    pub stack_name: String,
    /// The templates it runs, for tools that read them again (redrive).
    pub templates: Vec<PathBuf>,
    emulator: Emulator,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    /// Starts everything; `progress` hears about each step.
    pub async fn start(options: Options, progress: impl Fn(&str)) -> Result<Self, StackError> {
        let template = Template::load(&options.templates)?;
        let binaries = if options.build {
            progress("building the functions (cargo build)");
            cargo::build(&options.workspace, options.release)?
        } else {
            cargo::binaries_dir(&options.workspace, options.release)?
        };

        let edge_listener = listen(options.edge_port).await?;
        let api_listeners = ApiListeners::bind(&options).await?;
        let edge_url = format!("http://127.0.0.1:{}", port_of(&edge_listener));
        let (api_url, https_url, ca_file) = api_listeners.urls_and_ca();

        progress("starting the AWS emulator (moto)");
        let emulator = if let Some(endpoint) = &options.endpoint {
            Emulator::external(endpoint).await?
        } else {
            let port = port_of(&listen(0).await?);
            Emulator::start(&options.workspace, port, port_of(&edge_listener)).await?
        };
        let clients = Clients::new(
            &shop_aws::loader()
                .region(aws_config::Region::new(crate::REGION))
                .endpoint_url(&emulator.endpoint)
                .test_credentials()
                .load()
                .await,
        );

        progress("provisioning the template's resources");
        let provisioned =
            provision::provision(&template, resolver(&options, &template, &api_url), &clients)
                .await?;
        let plan = provisioned.plan;

        let watch = Watch::of(&template, &provisioned.resolver);
        let unreadable = watch.unreadable.clone();
        let controls = controls(&options, &emulator.endpoint, watch)?;
        let logs = LogSink::new(
            &options.log_dir,
            options.echo_logs,
            controls.monitoring.clone(),
        )
        .map_err(StackError::Logs)?;
        let lambda = Lambda::new(
            function_pools(&plan, &binaries, &edge_url, &options, &logs, &controls)?,
            AsyncContext {
                sqs: clients.sqs.clone(),
                controls: controls.clone(),
            },
            logs.clone(),
        );
        let edge = Edge::new(
            lambda.clone(),
            &emulator.endpoint,
            controls.clone(),
            execution_roles(&plan),
            AppClients::new(provisioned.app_clients),
            options.log_dir.with_file_name("code"),
        );
        let mut tasks = vec![serve(edge_listener, edge.router())];
        tasks.extend(run_sources(
            api_listeners,
            &plan,
            provisioned.deliveries,
            &emulator.endpoint,
            &clients,
            &lambda,
            &controls,
        ));
        tasks.extend(poll_metrics(
            &template,
            &provisioned.resolver,
            &clients,
            &controls,
        ));
        let authorizer = plan.authorizer.as_ref();
        Ok(Self {
            endpoints: Endpoints {
                api_url,
                https_url,
                ca_file,
                edge_url,
                emulator_url: emulator.endpoint.clone(),
                user_pool_id: authorizer.and_then(|a| a.user_pool_id()).map(str::to_owned),
                user_pool_client_id: authorizer.and_then(|a| a.audiences.first().cloned()),
                region: crate::REGION.to_owned(),
            },
            lambda,
            resolver: provisioned.resolver,
            notes: notes(&template, options.time_scale, unreadable),
            logs,
            stack_name: options.stack_name.clone(),
            templates: options.templates.clone(),
            emulator,
            tasks,
        })
    }

    /// Stops the servers, the event sources, every function process and the emulator.
    pub async fn stop(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        drop(self.lambda);
        self.emulator.stop().await;
        // Give killed processes a moment to be reaped.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The controls, with the metrics kept as CloudWatch would and `watch`'s alarms evaluated.
fn controls(options: &Options, emulator: &str, watch: Watch) -> Result<Controls, StackError> {
    let store = match &options.metrics_seen {
        Some(dir) => MetricStore::recording_to(SeenLog::create(dir).map_err(StackError::Logs)?),
        None => MetricStore::default(),
    };
    Ok(Controls::new(
        options.time_scale,
        Monitoring::start(emulator, options.time_scale, watch, store),
    ))
}

/// What the banner says devstack does differently from AWS.
fn notes(template: &Template, time_scale: u32, unreadable: Vec<String>) -> Vec<String> {
    let mut notes = template.not_emulated();
    notes.extend(unreadable);
    notes.extend(LOCAL_DIFFERENCES.iter().map(|d| (*d).to_owned()));
    notes.push(format!(
        "time runs {time_scale}x faster for AWS's waits: asynchronous retries, event and record ages"
    ));
    notes
}

/// Template parameters: defaults, then the options' overrides; the HTTP API served at
/// `api_url`.
fn resolver(options: &Options, template: &Template, api_url: &str) -> Resolver {
    let mut parameters: HashMap<String, String> = template
        .parameters
        .iter()
        .filter_map(|(name, default)| default.clone().map(|d| (name.clone(), d)))
        .collect();
    parameters.extend(options.parameters.clone());
    let mut resolver = Resolver::new(
        crate::REGION,
        crate::ACCOUNT,
        &options.stack_name,
        parameters,
    );
    resolver.serve_api(template, api_url);
    resolver
}

/// The HTTP API's two doors: plain HTTP and TLS, serving one router.
struct ApiListeners {
    plain: TcpListener,
    tls: TlsListener,
    https_port: u16,
    ca_file: PathBuf,
}

impl ApiListeners {
    async fn bind(options: &Options) -> Result<Self, StackError> {
        let plain = listen(options.api_port).await?;
        let tcp = listen(options.https_port).await?;
        let https_port = port_of(&tcp);
        let tls_dir = options.tls_dir.clone();
        // Key generation and file locking block; another stack may hold the lock a moment.
        let local_tls = tokio::task::spawn_blocking(move || LocalTls::load_or_create(&tls_dir))
            .await
            .expect("the certificate task does not panic")?;
        Ok(Self {
            plain,
            tls: TlsListener::new(tcp, local_tls.config),
            https_port,
            ca_file: local_tls.ca_file,
        })
    }

    /// The plain URL, the HTTPS URL and the CA clients of the latter trust.
    fn urls_and_ca(&self) -> (String, String, PathBuf) {
        (
            format!("http://127.0.0.1:{}", port_of(&self.plain)),
            format!("https://127.0.0.1:{}", self.https_port),
            self.ca_file.clone(),
        )
    }

    fn serve(self, router: axum::Router) -> [JoinHandle<()>; 2] {
        [serve(self.plain, router.clone()), serve(self.tls, router)]
    }
}

async fn listen(port: u16) -> Result<TcpListener, StackError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| StackError::Listen { port, source })
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().map_or(0, |a| a.port())
}

/// A process pool per function, each with the environment Lambda and the template give it.
fn function_pools(
    plan: &Plan,
    binaries: &Path,
    edge_url: &str,
    options: &Options,
    logs: &LogSink,
    controls: &Controls,
) -> Result<Vec<FunctionPool>, StackError> {
    let mut pools = Vec::new();
    for function in &plan.functions {
        let binary = binaries.join(&function.binary);
        if !binary.exists() {
            return Err(StackError::MissingBinary(binary.display().to_string()));
        }
        let access_key = iam::roles::access_key_id(&function.logical_id);
        let reserved = [
            ("AWS_ENDPOINT_URL", edge_url),
            ("AWS_REGION", crate::REGION),
            ("AWS_DEFAULT_REGION", crate::REGION),
            // Keys of its own, so the edge knows whose role to check each call against.
            ("AWS_ACCESS_KEY_ID", &access_key),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_LAMBDA_FUNCTION_NAME", &function.name),
            ("AWS_LAMBDA_LOG_GROUP_NAME", &function.log_group),
        ];
        pools.push(FunctionPool::new(
            FunctionSpec {
                role: iam::roles::role_arn(&function.name),
                logical_id: function.logical_id.clone(),
                arn: function.arn.clone(),
                name: function.name.clone(),
                binary,
                environment: function.environment.iter().cloned().collect(),
                reserved_environment: reserved
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                timeout: function.timeout,
                memory_mb: function.memory_mb,
                max_instances: options
                    .function_concurrency
                    .get(&function.logical_id)
                    .copied()
                    .unwrap_or(options.concurrency)
                    .max(1),
                async_invoke: function.async_invoke.clone(),
                traced: function.traced,
                alias: function.alias.clone(),
            },
            logs.clone(),
            controls.faults.clone(),
            controls.monitoring.clone(),
        ));
    }
    Ok(pools)
}

/// The pollers that stand in for the metrics SQS and Step Functions publish themselves.
fn poll_metrics(
    template: &Template,
    resolver: &Resolver,
    clients: &Clients,
    controls: &Controls,
) -> Vec<JoinHandle<()>> {
    let (monitoring, activity) = (&controls.monitoring, &controls.activity);
    let attribute = |id: &str, attribute| resolver.get(id, attribute).map(str::to_owned);
    let queues = template
        .of_kind(ResourceKind::SqsQueue)
        .filter_map(|q| {
            Some((
                attribute(&q.logical_id, Attribute::QueueName)?,
                attribute(&q.logical_id, Attribute::QueueUrl)?,
            ))
        })
        .collect();
    let machines = template
        .of_kind(ResourceKind::StateMachine)
        .filter_map(|m| attribute(&m.logical_id, Attribute::Ref))
        .collect();
    // The template was checked when it was provisioned; a logging setting it cannot read
    // leaves that machine unlogged.
    let execution_logs = execution_logs::destinations(template, resolver).unwrap_or_default();
    vec![
        tokio::spawn(pollers::queues(
            clients.sqs.clone(),
            queues,
            monitoring.clone(),
            activity.watch(),
        )),
        tokio::spawn(pollers::executions(
            clients.sfn.clone(),
            machines,
            monitoring.clone(),
            activity.watch(),
            ExecutionLogs::new(clients, execution_logs),
        )),
    ]
}

fn serve<L>(listener: L, router: axum::Router) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    })
}

/// Every function's execution role, as the edge enforces it.
fn execution_roles(plan: &Plan) -> ExecutionRoles {
    ExecutionRoles::new(
        crate::REGION,
        crate::ACCOUNT,
        plan.functions.iter().map(|function| Role {
            function: function.logical_id.clone(),
            function_name: function.name.clone(),
            statements: function.statements.clone(),
        }),
    )
}

/// Serves the HTTP API and starts every stream mapping and rule delivery.
fn run_sources(
    api_listeners: ApiListeners,
    plan: &Plan,
    deliveries: Vec<Delivery>,
    emulator: &str,
    clients: &Clients,
    lambda: &Lambda,
    controls: &Controls,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let routes = RouteTable::new(
        plan.routes
            .iter()
            .map(|r| Route::new(&r.method, &r.path, &r.function, r.public))
            .collect(),
    );
    let authorizer = plan
        .authorizer
        .as_ref()
        .map(|a| Authorizer::new(&a.issuer, a.audiences.clone(), emulator));
    let cors = plan.cors.as_ref().map(Cors::from);
    let gateway = Gateway::new(routes, authorizer, cors, lambda.clone())
        .with_metrics(controls.monitoring.clone(), provision::names::API_ID);
    tasks.extend(api_listeners.serve(gateway.router()));
    let poller = streams::Poller {
        streams: clients.streams.clone(),
        sqs: clients.sqs.clone(),
        lambda: lambda.clone(),
        controls: controls.clone(),
    };
    for mapping in &plan.stream_mappings {
        tasks.push(tokio::spawn(streams::run(mapping.clone(), poller.clone())));
    }
    let deliverer = rules::Deliverer {
        sqs: clients.sqs.clone(),
        sfn: clients.sfn.clone(),
        lambda: lambda.clone(),
        controls: controls.clone(),
    };
    for delivery in deliveries {
        tasks.push(tokio::spawn(rules::run(delivery, deliverer.clone())));
    }
    for schedule in &plan.schedules {
        tasks.push(tokio::spawn(crate::sources::schedules::run(
            schedule.clone(),
            lambda.clone(),
            controls.clone(),
        )));
    }
    tasks
}
