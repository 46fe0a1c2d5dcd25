//! `make bench-cold`: cold starts of release Lambda binaries against moto, with the echo floor
//! beside them (what is measured and how: the crate's documentation, `src/lib.rs`).
//!
//! `cold-start --binaries DIR [--runs N] [--warmup N] [--out FILE] [--env NAME=VALUE ...]`, where DIR holds cargo-lambda's `<binary>/bootstrap` folders and
//! `--env` gives every process one more variable, to measure a variant (e.g. another
//! `SSL_CERT_FILE`) without building anything.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use cold_start::{
    launch::{self, ColdStart, Launch},
    proxy::RecordingProxy,
    report::{self, RunFigures, Summary},
    runtime_api::Invocation,
    subjects::{self, FLOOR, Identity, SUBJECTS, Subject, Surroundings},
};
use devstack::{
    emulator::Emulator,
    plan::Plan,
    provision::{self, Clients},
    template::{Resolver, Template},
};

type Error = Box<dyn std::error::Error>;

#[derive(Debug)]
struct Settings {
    binaries: PathBuf,
    runs: usize,
    warmup: usize,
    out: PathBuf,
    variant: Vec<(String, String)>,
}

fn settings(workspace: &Path) -> Result<Settings, String> {
    let mut settings = Settings {
        binaries: PathBuf::new(),
        runs: 20,
        warmup: 1,
        out: workspace.join("target/cold-start/runs.json"),
        variant: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let number = |v: String| v.parse().map_err(|_| format!("{arg} needs a number"));
        match arg.as_str() {
            "--binaries" => settings.binaries = PathBuf::from(value()?),
            "--runs" => settings.runs = number(value()?)?,
            "--warmup" => settings.warmup = number(value()?)?,
            "--out" => settings.out = PathBuf::from(value()?),
            "--env" => {
                let pair = value()?;
                let (name, value) = pair
                    .split_once('=')
                    .ok_or(format!("--env needs NAME=VALUE, not {pair}"))?;
                settings.variant.push((name.to_owned(), value.to_owned()));
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if settings.binaries.as_os_str().is_empty() {
        return Err("--binaries DIR is required (cargo-lambda's target/lambda folder)".to_owned());
    }
    Ok(settings)
}

/// An event as the bytes the Runtime API hands out.
fn event_bytes(event: &serde_json::Value) -> axum::body::Bytes {
    axum::body::Bytes::from(serde_json::to_vec(event).expect("an event serialises"))
}

/// moto with every resource of the template, provisioned by devstack as `make run` does, and
/// the plan that says each function's environment.
async fn emulate(workspace: &Path) -> Result<(Emulator, Plan, Clients), Error> {
    let template = Template::load(&[workspace.join("infra/template.yaml")])?;
    let free_port = || -> std::io::Result<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    };
    // moto's MOTO_PORT (where Step Functions would call Lambda) leads nowhere: no state machine
    // runs here.
    let emulator = Emulator::start(workspace, free_port()?, free_port()?).await?;
    let sdk = shop_aws::loader()
        .region(aws_config::Region::new(devstack::REGION))
        .endpoint_url(&emulator.endpoint)
        .test_credentials()
        .load()
        .await;
    let clients = Clients::new(&sdk);
    let mut parameters: HashMap<String, String> = template
        .parameters
        .iter()
        .filter_map(|(name, default)| default.clone().map(|d| (name.clone(), d)))
        .collect();
    parameters.insert("Stage".to_owned(), "local".to_owned());
    let mut resolver = Resolver::new(
        devstack::REGION,
        devstack::ACCOUNT,
        "shop-local",
        parameters,
    );
    // No gateway runs: the URL only fills the variables of functions that call the API.
    resolver.serve_api(&template, "http://127.0.0.1:3000");
    let provisioned = provision::provision(&template, resolver, &clients).await?;
    Ok((emulator, provisioned.plan, clients))
}

fn identity(plan: &Plan, subject: &Subject) -> Result<Identity, Error> {
    if subject.binary == FLOOR.binary {
        return Ok(Identity::floor());
    }
    plan.functions
        .iter()
        .find(|f| f.binary == subject.binary)
        .map(Identity::of)
        .ok_or_else(|| format!("no function of the template runs {}", subject.binary).into())
}

/// The bootstrap's size, and its size zipped (deflate, as the deployment package).
fn sizes(bootstrap: &Path) -> Result<(u64, u64), Error> {
    let code = std::fs::read(bootstrap)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(&code)?;
    let zipped = zip.finish()?.into_inner();
    Ok((u64::try_from(code.len())?, u64::try_from(zipped.len())?))
}

/// What the machine is and how busy it was, for the report's header.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{model}, {cores} cores, {} binaries (run here, so built for this machine's architecture); load average {}",
        std::env::consts::ARCH,
        load.join(" ")
    )
}

struct Prepared {
    subject: Subject,
    launch: Launch,
    sample: serde_json::Value,
    sizes: (u64, u64),
}

fn prepare(
    settings: &Settings,
    workspace: &Path,
    plan: &Plan,
    proxy: &RecordingProxy,
) -> Result<Vec<Prepared>, Error> {
    let mut prepared = Vec::new();
    for subject in SUBJECTS {
        let folder = settings.binaries.join(subject.binary);
        let bootstrap = folder.join("bootstrap");
        if !bootstrap.exists() {
            return Err(format!(
                "{} is missing: make bench-cold builds it",
                bootstrap.display()
            )
            .into());
        }
        let identity = identity(plan, subject)?;
        let sample_file = workspace.join("events/samples").join(subject.sample);
        let sample: serde_json::Value = serde_json::from_slice(&std::fs::read(&sample_file)?)?;
        let mut environment = subjects::environment(
            &identity,
            Surroundings {
                endpoint: &proxy.url,
                task_root: &folder,
            },
        );
        environment.retain(|(name, _)| settings.variant.iter().all(|(n, _)| n != name));
        environment.extend(settings.variant.iter().cloned());
        prepared.push(Prepared {
            subject: *subject,
            launch: Launch {
                binary: bootstrap.clone(),
                environment,
                invocation: Invocation {
                    request_id: String::new(),
                    function_arn: identity.arn.clone(),
                    payload: event_bytes(&sample),
                    timeout: Duration::from_secs(10),
                },
                patience: Duration::from_secs(30),
            },
            sample,
            sizes: sizes(&bootstrap)?,
        });
    }
    Ok(prepared)
}

/// Rounds of one cold start per function, the first function rotating each round so none
/// always follows the same one; warm-up rounds are run and dropped.
async fn measure(
    prepared: &[Prepared],
    settings: &Settings,
    proxy: &RecordingProxy,
) -> Result<Vec<Vec<ColdStart>>, Error> {
    let mut runs: Vec<Vec<ColdStart>> = prepared.iter().map(|_| Vec::new()).collect();
    for round in 0..settings.warmup + settings.runs {
        for offset in 0..prepared.len() {
            let index = (round + offset) % prepared.len();
            let one = &prepared[index];
            let mut launch = one.launch.clone();
            launch.invocation.request_id = uuid::Uuid::new_v4().to_string();
            launch.invocation.payload = event_bytes(&subjects::event_for_run(&one.sample));
            let run = launch::cold_start(&launch, proxy)
                .await
                .map_err(|e| format!("{}: {e}", one.subject.binary))?;
            if round >= settings.warmup {
                runs[index].push(run);
            }
        }
        eprint!(".");
    }
    eprintln!();
    Ok(runs)
}

fn report(
    prepared: &[Prepared],
    runs: &[Vec<ColdStart>],
    settings: &Settings,
) -> Result<(), Error> {
    let summaries: Vec<Summary> = prepared
        .iter()
        .zip(runs)
        .map(|(one, runs)| {
            let figures: Vec<RunFigures> = runs.iter().map(report::figures).collect();
            report::summarise(one.subject.binary, one.subject.work, &figures, one.sizes)
        })
        .collect();
    let floor = summaries
        .iter()
        .find(|s| s.binary == FLOOR.binary)
        .ok_or("the floor was not measured")?;
    println!();
    println!("{}", report::table(&summaries, floor));
    println!("Init in parts (medians, ms):");
    print!("{}", report::breakdown(&summaries));
    let json: Vec<serde_json::Value> = prepared
        .iter()
        .zip(runs)
        .map(|(one, runs)| report::runs_json(one.subject.binary, runs))
        .collect();
    if let Some(folder) = settings.out.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(&settings.out, serde_json::to_vec_pretty(&json)?)?;
    println!("\nEvery run: {}", settings.out.display());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let workspace = cold_start::workspace_root();
    let settings = settings(&workspace)?;
    eprintln!("==> moto with the template's resources");
    let (mut emulator, plan, clients) = emulate(&workspace).await?;
    let seeded = async {
        let find = |binary| identity(&plan, &Subject { binary, ..FLOOR });
        subjects::seed(
            &clients.dynamodb,
            &find("catalog-http")?,
            &find("orders-http")?,
        )
        .await?;
        let proxy = RecordingProxy::start(&emulator.endpoint).await?;
        proxy.warm_up().await?;
        let prepared = prepare(&settings, &workspace, &plan, &proxy)?;
        eprintln!("==> machine: {}", machine());
        eprintln!(
            "==> {} runs of each of {} functions ({} warm-up rounds dropped)",
            settings.runs,
            prepared.len(),
            settings.warmup
        );
        let runs = measure(&prepared, &settings, &proxy).await?;
        println!(
            "Measured {} UTC on {}",
            time::OffsetDateTime::now_utc().date(),
            machine()
        );
        report(&prepared, &runs, &settings)
    }
    .await;
    emulator.stop().await;
    seeded
}
