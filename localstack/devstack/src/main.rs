//! `devstack`: build, start and seed the whole shop locally, print where everything is, and
//! run until Ctrl-C. See docs/local-development.md.

use std::{path::PathBuf, process::ExitCode, time::Instant};

use devstack::{
    seed::{self, Seeded},
    stack::{Endpoints, Options, Stack},
};

const USAGE: &str = "usage: devstack redrive [QUEUE]...
       devstack metrics-coverage [DIR [EXCUSED]]
       devstack [run] [--no-seed] [--no-build] [--no-reload] [--release] [--quiet]
                [--port N] [--https-port N] [--edge-port N] [--endpoint URL]
                [--template PATH]...
                [--concurrency N] [--time-scale N] [--check]

  --no-seed      start without demo users and products
  --no-build     use the function binaries already built
  --no-reload    keep running the binaries it started with; by default a rebuilt function
                 (make build) serves the next invocations, as a redeploy of it would
  --release      build and run release binaries
  --quiet        do not print function logs (they still go to target/devstack/logs/)
  --port N       HTTP API port (default 3000; 0 picks a free one)
  --https-port N the same API over TLS, with a local CA kept in target/devstack/tls/
                 (default 3443; 0 picks a free one)
  --edge-port N  AWS edge port (default 4566; 0 picks a free one)
  --endpoint URL use a running emulator (moto or LocalStack) instead of starting moto;
                 AWS_ENDPOINT_URL does the same
  --template P   an extra template to merge (e.g. test fixtures); repeatable
  --time-scale N divide AWS's waits (asynchronous retries 1 and 2 minutes apart, event
                 and record ages) by N (default 60; 1 is real time)
  --check        start, seed, print the summary, then stop (a smoke test and a timer)

  redrive        send what waits in the running stack's failure queues (all, or the named
                 ones, by logical id) back to where it failed
  metrics-coverage  whether every custom metric the template's dashboards and alarms name
                 was emitted by the stacks that recorded to DIR (the system tests write
                 target/devstack/metrics-seen), but those the EXCUSED list names with why";

struct Cli {
    options: Options,
    seed: bool,
    check: bool,
    reload: bool,
}

fn parse(workspace: &std::path::Path) -> Result<Cli, String> {
    let mut options = Options::new(workspace);
    options.api_port = 3000;
    options.https_port = 3443;
    options.edge_port = 4566;
    options.endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty());
    let mut cli = Cli {
        options,
        seed: true,
        check: false,
        reload: true,
    };
    let mut args = std::env::args().skip(1);
    let number = |value: Option<String>, flag: &str| -> Result<u16, String> {
        value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "run" => {}
            "--no-seed" => cli.seed = false,
            "--no-build" => cli.options.build = false,
            "--no-reload" => cli.reload = false,
            "--release" => cli.options.release = true,
            "--quiet" => cli.options.echo_logs = false,
            "--check" => cli.check = true,
            "--port" => cli.options.api_port = number(args.next(), "--port")?,
            "--https-port" => cli.options.https_port = number(args.next(), "--https-port")?,
            "--edge-port" => cli.options.edge_port = number(args.next(), "--edge-port")?,
            "--concurrency" => {
                cli.options.concurrency = usize::from(number(args.next(), "--concurrency")?.max(1));
            }
            "--time-scale" => {
                cli.options.time_scale = u32::from(number(args.next(), "--time-scale")?.max(1));
            }
            "--endpoint" => {
                cli.options.endpoint = Some(args.next().ok_or("--endpoint needs a URL")?);
            }
            "--template" => cli
                .options
                .templates
                .push(args.next().ok_or("--template needs a path")?.into()),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(cli)
}

#[tokio::main]
async fn main() -> ExitCode {
    let launched = Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEVSTACK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("devstack=info")),
        )
        .with_target(false)
        .init();
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    if std::env::args().nth(1).as_deref() == Some("redrive") {
        return redrive(&workspace, std::env::args().skip(2).collect()).await;
    }
    if std::env::args().nth(1).as_deref() == Some("metrics-coverage") {
        return metrics_coverage(&workspace, std::env::args().nth(2), std::env::args().nth(3));
    }
    let cli = match parse(&workspace) {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };

    let started = Instant::now();
    let stack =
        match Stack::start(cli.options.clone(), |step| eprintln!("devstack: {step} …")).await {
            Ok(stack) => stack,
            Err(error) => {
                eprintln!("devstack: {}", devstack::error_chain(&error));
                return ExitCode::FAILURE;
            }
        };
    let seeded = if cli.seed {
        eprintln!("devstack: seeding demo users and products …");
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(
            &shop_aws::loader()
                .region(aws_config::Region::new(stack.endpoints.region.clone()))
                .endpoint_url(&stack.endpoints.emulator_url)
                .test_credentials()
                .load()
                .await,
        );
        match seed::seed(&stack.endpoints, &cognito).await {
            Ok(seeded) => Some(seeded),
            Err(error) => {
                eprintln!("devstack: {error}");
                stack.stop().await;
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let ready = started.elapsed();
    let state_dir = workspace.join("target/devstack");
    write_state(&state_dir, &stack, seeded.as_ref());
    print_banner(
        &stack,
        seeded.as_ref(),
        ready,
        launched.elapsed(),
        &workspace,
    );

    if !cli.check {
        let reloading = cli
            .reload
            .then(|| tokio::spawn(devstack::lambda::reload::watch(stack.lambda.clone())));
        wait_for_shutdown().await;
        eprintln!("devstack: stopping …");
        if let Some(task) = reloading {
            task.abort();
        }
    }
    stack.stop().await;
    ExitCode::SUCCESS
}

async fn wait_for_shutdown() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// `target/devstack/stack.json` (URLs, pool, users and tokens) for scripts and tools.
fn write_state(dir: &std::path::Path, stack: &Stack, seeded: Option<&Seeded>) {
    let endpoints = &stack.endpoints;
    let user = |u: &seed::User| serde_json::json!({"email": u.email, "password": u.password, "groups": u.groups, "access_token": u.access_token, "id_token": u.id_token});
    let state = serde_json::json!({
        "api_url": endpoints.api_url,
        "https_url": endpoints.https_url,
        "ca_file": endpoints.ca_file,
        "edge_url": endpoints.edge_url,
        "stack_name": stack.stack_name,
        "templates": stack.templates,
        "region": endpoints.region,
        "user_pool_id": endpoints.user_pool_id,
        "user_pool_client_id": endpoints.user_pool_client_id,
        "admin": seeded.map(|s| user(&s.admin)),
        "customer": seeded.map(|s| user(&s.customer)),
    });
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(dir.join("stack.json"), format!("{state:#}\n"));
    if let Some(seeded) = seeded {
        let _ = std::fs::write(dir.join("admin.token"), &seeded.admin.access_token);
        let _ = std::fs::write(dir.join("customer.token"), &seeded.customer.access_token);
    }
}

fn print_banner(
    stack: &Stack,
    seeded: Option<&Seeded>,
    ready: std::time::Duration,
    total: std::time::Duration,
    workspace: &std::path::Path,
) {
    let e = &stack.endpoints;
    let relative = |path: &std::path::Path| {
        path.strip_prefix(workspace)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    println!();
    println!(
        "devstack is up: ready {:.1} s after start ({:.1} s with the build)",
        ready.as_secs_f64(),
        total.as_secs_f64()
    );
    println!();
    println!("  HTTP API    {}", e.api_url);
    println!(
        "  HTTPS API   {}   (certificate from the local CA {})",
        e.https_url,
        relative(&e.ca_file)
    );
    println!(
        "  AWS edge    {}   (aws --endpoint-url {} --region {} ...)",
        e.edge_url, e.edge_url, e.region
    );
    println!(
        "  API docs    {}/docs   (Swagger UI; the document: docs/api/shop.openapi.json)",
        e.api_url
    );
    println!(
        "  Dashboards  {}/_devstack/dashboards   (alarms: {}/_devstack/alarms)",
        e.edge_url, e.edge_url
    );
    if let (Some(pool), Some(client)) = (&e.user_pool_id, &e.user_pool_client_id) {
        println!("  User pool   {pool}   app client {client}");
    }
    println!(
        "  Logs        {}/<function>.log",
        relative(stack.logs.dir())
    );
    println!("  State       target/devstack/stack.json");
    println!();
    println!("  Functions");
    for function in stack.lambda.functions() {
        println!(
            "    {:<28} {}",
            function.spec().logical_id,
            function.spec().name
        );
    }
    if let Some(seeded) = seeded {
        println!();
        println!("  Users");
        for user in [&seeded.admin, &seeded.customer] {
            println!(
                "    {:<22} password {:<20} groups {}",
                user.email,
                user.password,
                user.groups.join(",")
            );
        }
        println!(
            "  Products    {} ({} in stock each)",
            seeded
                .products
                .iter()
                .map(|(sku, _)| sku.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            seed::STOCK_PER_PRODUCT
        );
        print_try_it(e, &seeded.admin, &relative(&e.ca_file));
    }
    print_trust(&e.ca_file);
    if !stack.notes.is_empty() {
        println!();
        println!("  Local differences from AWS");
        for note in &stack.notes {
            println!("    {note}");
        }
    }
    println!();
    println!("  Ctrl-C stops everything.");
}

/// A copy-paste walkthrough against the running API, as the seeded admin.
fn print_try_it(e: &Endpoints, admin: &seed::User, ca: &str) {
    println!();
    println!("  Try it");
    println!("    curl -s {}/products", e.api_url);
    println!("    curl -s --cacert {ca} {}/products", e.https_url);
    println!(
        "    TOKEN=$(cat target/devstack/admin.token)     # the admin's access token, valid 60 min"
    );
    println!(
        "    curl -si -X POST {}/products -H \"authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\\n      -d '{{\"sku\":\"LAMP-1\",\"name\":\"Desk lamp\",\"price_cents\":4500,\"currency\":\"EUR\"}}'",
        e.api_url
    );
    // Through the API, as on AWS: the app client lets no one check a password with Cognito
    // directly, past auth's lockout and audit.
    println!("    # a fresh token: log in through the API");
    println!(
        "    curl -s -X POST {}/auth/login -H 'content-type: application/json' \\\n      -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
        e.api_url, admin.email, admin.password
    );
}

/// How to make clients accept the HTTPS API's certificate: trust the local CA, once (it is
/// reused on every start).
fn print_trust(ca_file: &std::path::Path) {
    let ca = ca_file.display();
    println!();
    println!("  Trust the local CA (kept across restarts; trust it once)");
    println!("    curl --cacert {ca} ...   (or CURL_CA_BUNDLE={ca})");
    println!("    REQUESTS_CA_BUNDLE={ca}   # Python requests");
    println!(
        "    SSL_CERT_FILE={ca}        # OpenSSL's defaults (Python's ssl, openssl), Go, Rust's native roots; it replaces their other CAs"
    );
    println!("    NODE_EXTRA_CA_CERTS={ca}  # Node.js, beside its own CAs");
    println!(
        "    Debian/Ubuntu: sudo cp {ca} /usr/local/share/ca-certificates/devstack-local-ca.crt && sudo update-ca-certificates"
    );
    println!(
        "    macOS:         sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}"
    );
}

/// `devstack redrive [QUEUE]...`: the running stack is the one `target/devstack/stack.json`
/// describes.
async fn redrive(workspace: &std::path::Path, queues: Vec<String>) -> ExitCode {
    let state_file = workspace.join("target/devstack/stack.json");
    let Some(state) = std::fs::read(&state_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    else {
        eprintln!(
            "devstack: no running stack ({} is missing); start one with `make run`",
            state_file.display()
        );
        return ExitCode::FAILURE;
    };
    let templates: Vec<PathBuf> = state["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(PathBuf::from))
        .collect();
    let sources = match devstack::template::Template::load(&templates)
        .and_then(|template| devstack::redrive::sources(&template))
    {
        Ok(sources) => sources,
        Err(error) => {
            eprintln!("devstack: {}", devstack::error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    let edge_url = state["edge_url"].as_str().unwrap_or_default().to_owned();
    let config = shop_aws::loader()
        .region(aws_config::Region::new(devstack::REGION))
        .endpoint_url(&edge_url)
        .test_credentials()
        .load()
        .await;
    let redriver = devstack::redrive::Redriver {
        sqs: aws_sdk_sqs::Client::new(&config),
        sfn: aws_sdk_sfn::Client::new(&config),
        streams: aws_sdk_dynamodbstreams::Client::new(&config),
        http: reqwest::Client::new(),
        edge_url,
        stack_name: state["stack_name"]
            .as_str()
            .unwrap_or("shop-local")
            .to_owned(),
    };
    let mut failed = false;
    for source in sources
        .iter()
        .filter(|s| queues.is_empty() || queues.contains(&s.queue))
    {
        match redriver.redrive(source).await {
            Ok(report) if report.sent + report.kept > 0 => {
                println!(
                    "{:<34} {} sent back, {} kept",
                    source.queue, report.sent, report.kept
                );
                failed |= report.kept > 0;
            }
            Ok(_) => {}
            Err(error) => {
                eprintln!("devstack: {}", devstack::error_chain(&error));
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `devstack metrics-coverage [DIR [EXCUSED]]`: fails naming each custom metric that a dashboard
/// or an alarm of `infra/template.yaml` shows, no stack that recorded into DIR received, and the
/// EXCUSED list does not name; and each excused metric that was received after all (the list
/// only shrinks).
fn metrics_coverage(
    workspace: &std::path::Path,
    dir: Option<String>,
    excused: Option<String>,
) -> ExitCode {
    use std::collections::BTreeSet;

    use devstack::{monitoring::coverage, provision::names, template::Resolver};
    let fail = |message: String| {
        eprintln!("devstack: {message}");
        ExitCode::FAILURE
    };
    let dir = dir.map_or_else(
        || workspace.join("target/devstack/metrics-seen"),
        PathBuf::from,
    );
    let template =
        match devstack::template::Template::load(&[workspace.join("infra/template.yaml")]) {
            Ok(template) => template,
            Err(error) => return fail(devstack::error_chain(&error)),
        };
    let parameters = template
        .parameters
        .iter()
        .map(|(name, default)| (name.clone(), default.clone().unwrap_or_default()))
        .chain([("Stage".to_owned(), "local".to_owned())])
        .collect();
    let resolver = Resolver::new(
        devstack::REGION,
        devstack::ACCOUNT,
        "shop-local",
        parameters,
    );
    let resolver = match names::symbolic(&template, resolver) {
        Ok(resolver) => resolver,
        Err(error) => return fail(devstack::error_chain(&error)),
    };
    let seen = match coverage::seen(&dir) {
        Ok(seen) => seen,
        Err(error) => return fail(format!("cannot read {}: {error}", dir.display())),
    };
    let excused = match excused.map(std::fs::read_to_string).transpose() {
        Ok(list) => match coverage::excused(&list.unwrap_or_default()) {
            Ok(excused) => excused,
            Err(error) => return fail(format!("the excused list: {error}")),
        },
        Err(error) => return fail(format!("cannot read the excused list: {error}")),
    };
    let named = coverage::named(&template, &resolver);
    let keys: BTreeSet<_> = named.iter().map(|(key, _)| key).collect();
    let missing = coverage::missing(&named, &seen);
    let unexcused: Vec<_> = missing
        .iter()
        .filter(|(key, _)| !excused.iter().any(|(excused, _)| excused == key))
        .collect();
    let stale: Vec<_> = excused
        .iter()
        .filter(|(key, _)| seen.contains(key))
        .collect();
    println!(
        "metrics coverage: {} custom metrics shown by dashboards and alarms, {} emitted during the run, {} excused",
        keys.len(),
        keys.iter().filter(|key| seen.contains(key)).count(),
        excused.len()
    );
    for (key, by) in &unexcused {
        println!(
            "  never emitted: {} {} {:?} (shown by {by})",
            key.namespace, key.name, key.dimensions
        );
    }
    for (key, _) in &stale {
        println!(
            "  excused but emitted, remove it from the list: {} {} {:?}",
            key.namespace, key.name, key.dimensions
        );
    }
    if unexcused.is_empty() && stale.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
