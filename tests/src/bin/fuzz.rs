//! `make fuzz`: boots a devstack of its own on free ports (as the system tests do), seeds it,
//! and fuzzes the gateway's OpenAPI document (`docs/api/shop.openapi.json`) against it with
//! schemathesis; prints the requests sent, the 5xx answers and the responses that break it,
//! and exits non-zero on any of them. See `system_tests::fuzz`.
//!
//! `make fuzz ARGS="--max-examples 200 --seed 7"`; schemathesis' output for each document is
//! in `target/fuzz/<document>.log`.

use std::process::ExitCode;

use system_tests::fuzz::{self, Settings};

const USAGE: &str = "usage: fuzz [--max-examples N] [--seed N]
  --max-examples N  test cases per operation and phase (default 100)
  --seed N          repeat an earlier run (default: a new seed, printed)";

fn settings() -> Result<Settings, String> {
    let mut settings = Settings {
        max_examples: 100,
        seed: None,
        deterministic: false,
        report_dir: system_tests::workspace().join("target/fuzz"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{arg} needs a number\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--max-examples" => {
                settings.max_examples = u32::try_from(number()?.max(1)).unwrap_or(u32::MAX);
            }
            "--seed" => settings.seed = Some(number()?),
            _ => return Err(USAGE.to_owned()),
        }
    }
    Ok(settings)
}

fn main() -> ExitCode {
    let mut settings = match settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // One seed for every document, printed, so a failing run can be repeated as a whole.
    let seed = *settings.seed.get_or_insert_with(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    eprintln!(
        "fuzz: seed {seed} (repeat with ARGS=\"--seed {seed}\"); starting devstack on free ports …"
    );
    let system = system_tests::system();
    let documents: Vec<String> = fuzz::documents()
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .collect();
    eprintln!(
        "fuzz: {} against {}, {} examples per operation and phase …",
        documents.join(", "),
        system.api_url,
        settings.max_examples
    );
    let run = fuzz::run(system, &settings);
    println!("{run}");
    if run.passed() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "fuzz: FAILED; each failing request and how to replay it is in {}/<document>.log",
            settings.report_dir.display()
        );
        ExitCode::FAILURE
    }
}
