//! The whole local stack: build the functions, start the emulator, provision the template,
//! and run the edge, the gateway, the functions and the event sources.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    edge::Edge,
    emulator::{Emulator, EmulatorError},
    gateway::{Authorizer, Cors, Gateway, Route, RouteTable},
    lambda::{FunctionPool, FunctionSpec, Lambda},
    logs::LogSink,
    provision::{self, Clients, ProvisionError},
    sources::{rules, streams},
    template::{Function, Resolver, Template, TemplateError},
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
    /// Port of the edge (0: any free port).
    pub edge_port: u16,
    pub stack_name: String,
    pub parameters: HashMap<String, String>,
    /// Most instances of one function running at once.
    pub concurrency: usize,
    /// Build the functions with `cargo build` first; otherwise use what is in the target dir.
    pub build: bool,
    pub release: bool,
    /// Print function logs on stdout (they always go to files in `log_dir`).
    pub echo_logs: bool,
    pub log_dir: PathBuf,
}

impl Options {
    pub fn new(workspace: &Path) -> Self {
        Self {
            workspace: workspace.to_path_buf(),
            templates: vec![workspace.join("infra/template.yaml")],
            endpoint: None,
            api_port: 0,
            edge_port: 0,
            stack_name: "shop-local".to_owned(),
            // A local stage confirms sign-ups without the emailed code.
            parameters: HashMap::from([
                ("Stage".to_owned(), "local".to_owned()),
                ("AutoConfirmSignUps".to_owned(), "true".to_owned()),
            ]),
            concurrency: 4,
            build: true,
            release: false,
            echo_logs: true,
            log_dir: workspace.join("target/devstack/logs"),
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
    #[error("building the functions failed: {0}")]
    Build(String),
    #[error(
        "{0}: the function's binary is missing; build it with `cargo build --workspace --bins`"
    )]
    MissingBinary(String),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot prepare the log folder: {0}")]
    Logs(#[source] std::io::Error),
}

/// What the running stack offers.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub api_url: String,
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
    pub notes: Vec<String>,
    pub logs: LogSink,
    emulator: Emulator,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    /// Starts everything; `progress` hears about each step.
    pub async fn start(options: Options, progress: impl Fn(&str)) -> Result<Self, StackError> {
        let template = Template::load(&options.templates)?;
        let functions = template.functions()?;

        let binaries = if options.build {
            progress("building the functions (cargo build)");
            build(&options, functions.iter().map(|f| f.binary.as_str()))?
        } else {
            target_dir(&options)?.join(if options.release { "release" } else { "debug" })
        };

        let edge_listener = listen(options.edge_port).await?;
        let api_listener = listen(options.api_port).await?;
        let edge_port = edge_listener.local_addr().map_or(0, |a| a.port());
        let api_port = api_listener.local_addr().map_or(0, |a| a.port());

        progress("starting the AWS emulator (moto)");
        let emulator = if let Some(endpoint) = &options.endpoint {
            Emulator::external(endpoint).await?
        } else {
            Emulator::start(&options.workspace, free_port().await?, edge_port).await?
        };
        let sdk = shop_aws::loader()
            .region(aws_config::Region::new(crate::REGION))
            .endpoint_url(&emulator.endpoint)
            .test_credentials()
            .load()
            .await;
        let clients = Clients::new(&sdk);

        progress("provisioning the template's resources");
        let mut parameters: HashMap<String, String> = template
            .parameters
            .iter()
            .filter_map(|(name, default)| default.clone().map(|d| (name.clone(), d)))
            .collect();
        parameters.extend(options.parameters.clone());
        let resolver = Resolver::new(
            crate::REGION,
            crate::ACCOUNT,
            &options.stack_name,
            parameters,
        );
        let provisioned = provision::provision(&template, resolver, &clients).await?;
        let resolver = provisioned.resolver;

        let edge_url = format!("http://127.0.0.1:{edge_port}");
        let logs = LogSink::new(&options.log_dir, options.echo_logs).map_err(StackError::Logs)?;
        let lambda = Lambda::new(function_pools(
            &functions, &resolver, &binaries, &edge_url, &options, &logs,
        )?);

        let mut tasks = Vec::new();
        let edge = Edge::new(lambda.clone(), &emulator.endpoint).router();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(edge_listener, edge).await;
        }));
        let (gateway, pool) = gateway(
            &template,
            &functions,
            &resolver,
            &emulator.endpoint,
            &lambda,
        )?;
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(api_listener, gateway.router()).await;
        }));
        for mapping in stream_mappings(&template, &functions, &resolver)? {
            tasks.push(tokio::spawn(streams::run(
                mapping,
                clients.streams.clone(),
                clients.sqs.clone(),
                lambda.clone(),
            )));
        }
        for delivery in provisioned.deliveries {
            tasks.push(tokio::spawn(rules::run(
                delivery,
                clients.sqs.clone(),
                clients.sfn.clone(),
                lambda.clone(),
            )));
        }

        Ok(Self {
            endpoints: Endpoints {
                api_url: format!("http://127.0.0.1:{api_port}"),
                edge_url,
                emulator_url: emulator.endpoint.clone(),
                user_pool_id: pool.as_ref().map(|(id, _)| id.clone()),
                user_pool_client_id: pool.map(|(_, client)| client),
                region: crate::REGION.to_owned(),
            },
            lambda,
            resolver,
            notes: provisioned.notes,
            logs,
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

async fn listen(port: u16) -> Result<TcpListener, StackError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| StackError::Listen { port, source })
}

async fn free_port() -> Result<u16, StackError> {
    let listener = listen(0).await?;
    Ok(listener.local_addr().map_or(0, |a| a.port()))
}

fn target_dir(options: &Options) -> Result<PathBuf, StackError> {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            options.workspace.join(dir)
        });
    }
    let output = std::process::Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(&options.workspace)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| StackError::Build(e.to_string()))?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| StackError::Build(e.to_string()))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| StackError::Build("cargo metadata names no target directory".to_owned()))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Builds the named binaries; returns the folder they are in.
fn build<'a>(
    options: &Options,
    binaries: impl Iterator<Item = &'a str>,
) -> Result<PathBuf, StackError> {
    let mut command = std::process::Command::new(cargo());
    command.arg("build").current_dir(&options.workspace);
    if options.release {
        command.arg("--release");
    }
    for binary in binaries {
        command.args(["--bin", binary]);
    }
    let status = command
        .status()
        .map_err(|e| StackError::Build(e.to_string()))?;
    if !status.success() {
        return Err(StackError::Build(format!(
            "cargo build exited with {status}"
        )));
    }
    Ok(target_dir(options)?.join(if options.release { "release" } else { "debug" }))
}

/// A process pool per function, each with the environment Lambda and the template give it.
fn function_pools(
    functions: &[Function],
    resolver: &Resolver,
    binaries: &Path,
    edge_url: &str,
    options: &Options,
    logs: &LogSink,
) -> Result<Vec<FunctionPool>, StackError> {
    let mut pools = Vec::new();
    for function in functions {
        let binary = binaries.join(&function.binary);
        if !binary.exists() {
            return Err(StackError::MissingBinary(binary.display().to_string()));
        }
        let name = resolver
            .get(&function.logical_id, "Ref")
            .unwrap_or_default()
            .to_owned();
        let mut environment: Vec<(String, String)> = [
            ("AWS_ENDPOINT_URL", edge_url),
            ("AWS_REGION", crate::REGION),
            ("AWS_DEFAULT_REGION", crate::REGION),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_LAMBDA_FUNCTION_NAME", &name),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        environment.push((
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
            function.memory_mb.to_string(),
        ));
        environment.push((
            "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
            format!("/aws/lambda/{name}"),
        ));
        for (key, value) in &function.environment {
            let at = format!(
                "{}.Properties.Environment.Variables.{key}",
                function.logical_id
            );
            environment.push((key.clone(), resolver.resolve_string(value, &at)?));
        }
        pools.push(FunctionPool::new(
            FunctionSpec {
                logical_id: function.logical_id.clone(),
                arn: resolver
                    .get(&function.logical_id, "Arn")
                    .unwrap_or_default()
                    .to_owned(),
                name,
                binary,
                environment,
                timeout: function.timeout,
                memory_mb: function.memory_mb,
                max_instances: options.concurrency,
            },
            logs.clone(),
        ));
    }
    Ok(pools)
}

/// The HTTP API's gateway, and the user pool and app client its authorizer trusts.
fn gateway(
    template: &Template,
    functions: &[Function],
    resolver: &Resolver,
    emulator: &str,
    lambda: &Lambda,
) -> Result<(Gateway, Option<(String, String)>), StackError> {
    let routes = RouteTable::new(
        functions
            .iter()
            .flat_map(Function::http_routes)
            .map(|r| Route::new(&r.method, &r.path, &r.function, r.public))
            .collect(),
    );
    let Some(api) = template.http_api()? else {
        return Ok((Gateway::new(routes, None, None, lambda.clone()), None));
    };
    let cors = api.cors.as_ref().map(Cors::from_template);
    let Some(issuer) = &api.jwt_issuer else {
        return Ok((Gateway::new(routes, None, cors, lambda.clone()), None));
    };
    let at = format!("{}.Properties.Auth", api.logical_id);
    let issuer = resolver.resolve_string(issuer, &at)?;
    let audiences = api
        .jwt_audience
        .iter()
        .map(|a| resolver.resolve_string(a, &at))
        .collect::<Result<Vec<_>, _>>()?;
    let pool = issuer
        .rsplit('/')
        .next()
        .zip(audiences.first())
        .map(|(pool, client)| (pool.to_owned(), client.clone()));
    let authorizer = Authorizer::new(&issuer, audiences, emulator);
    Ok((
        Gateway::new(routes, Some(authorizer), cors, lambda.clone()),
        pool,
    ))
}

/// The event source mappings of the functions' DynamoDB stream events.
fn stream_mappings(
    template: &Template,
    functions: &[Function],
    resolver: &Resolver,
) -> Result<Vec<streams::StreamMapping>, StackError> {
    let mut mappings = Vec::new();
    for function in functions {
        for source in function.stream_sources() {
            let stream_arn =
                resolver.resolve_string(&source.stream, &format!("{}.Stream", source.at))?;
            let on_failure = match &source.on_failure {
                Some(destination) => {
                    let queue = template.referenced(destination).ok_or_else(|| {
                        TemplateError::unsupported(
                            format!("{}.DestinationConfig", source.at),
                            "the on-failure destination must be a queue of the template",
                        )
                    })?;
                    resolver
                        .get(&queue.logical_id, "QueueUrl")
                        .map(str::to_owned)
                }
                None => None,
            };
            mappings.push(streams::StreamMapping {
                function: function.logical_id.clone(),
                stream_arn,
                trim_horizon: source.trim_horizon,
                batch_size: source.batch_size,
                max_retries: source.max_retries,
                report_batch_item_failures: source.report_batch_item_failures,
                bisect_on_error: source.bisect_on_error,
                on_failure,
            });
        }
    }
    Ok(mappings)
}
