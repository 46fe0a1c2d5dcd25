//! API fuzzing: schemathesis generates requests from the gateway's OpenAPI document
//! (`docs/api/shop.openapi.json`, merged from the services' documents with what the gateway
//! answers itself) and sends them to the running system, with the seeded customer's
//! token on operations any signed-in user may call and the admin's on operations whose security
//! requirement names the `admin` role (`tests/fixtures/schemathesis.toml` maps one to the
//! other). Every response is checked: no 5xx, a documented status code, a documented content
//! type, a body that matches the documented schema.
//!
//! `make fuzz` runs it at length (`src/bin/fuzz.rs`); `tests/fuzz.rs` runs a small seeded
//! round inside `make test`.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{System, workspace};

/// The checks that decide a run: the server never fails, and every answer is one the document
/// promises (status, content type, body).
pub const CHECKS: [&str; 4] = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
];

/// How much to generate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Test cases per operation and phase (schemathesis' `--max-examples`).
    pub max_examples: u32,
    /// A fixed seed makes a run repeatable; `None` lets schemathesis pick (and print) one.
    pub seed: Option<u64>,
    /// Hypothesis' deterministic mode: the same cases for the same documents on every run.
    pub deterministic: bool,
    /// Where each document's schemathesis output and event log go.
    pub report_dir: PathBuf,
}

/// What one document's run sent and got back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub requests: u64,
    pub server_errors: u64,
    /// Failed checks other than `not_a_server_error`, by check name.
    pub violations: BTreeMap<String, u64>,
    /// Errors schemathesis met itself (a schema it could not use, a crash).
    pub errors: u64,
}

impl Tally {
    pub fn schema_violations(&self) -> u64 {
        self.violations.values().sum()
    }

    /// Reads schemathesis' NDJSON event log (`--report ndjson`): every finished scenario
    /// records its requests, their responses and each check's outcome.
    pub fn from_ndjson(log: &str) -> Self {
        let mut tally = Self::default();
        for event in log
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        {
            let Some((kind, body)) = event.as_object().and_then(|o| o.iter().next()) else {
                continue;
            };
            if kind.contains("Error") {
                tally.errors += 1;
                continue;
            }
            if kind != "ScenarioFinished" {
                continue;
            }
            let recorder = &body["recorder"];
            for interaction in recorder["interactions"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                let Some(status) = interaction["response"]["status_code"].as_u64() else {
                    continue;
                };
                tally.requests += 1;
                if status >= 500 {
                    tally.server_errors += 1;
                }
            }
            for check in recorder["checks"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(Value::as_array)
                .flatten()
            {
                let (Some(name), Some(status)) = (check["name"].as_str(), check["status"].as_str())
                else {
                    continue;
                };
                if status == "failure" && name != "not_a_server_error" {
                    *tally.violations.entry(name.to_owned()).or_default() += 1;
                }
            }
        }
        tally
    }
}

/// One document's outcome.
#[derive(Debug, Clone)]
pub struct DocumentRun {
    pub document: String,
    pub tally: Tally,
    /// schemathesis' own verdict (it also fails on errors the tally cannot classify).
    pub passed: bool,
    pub took: Duration,
    /// schemathesis' console output, with the failing requests and how to replay them.
    pub output: PathBuf,
}

/// All documents' outcomes.
#[derive(Debug, Clone)]
pub struct Run {
    pub documents: Vec<DocumentRun>,
    pub took: Duration,
}

impl Run {
    pub fn requests(&self) -> u64 {
        self.documents.iter().map(|d| d.tally.requests).sum()
    }

    pub fn server_errors(&self) -> u64 {
        self.documents.iter().map(|d| d.tally.server_errors).sum()
    }

    pub fn schema_violations(&self) -> u64 {
        self.documents
            .iter()
            .map(|d| d.tally.schema_violations())
            .sum()
    }

    pub fn passed(&self) -> bool {
        self.documents.iter().all(|d| {
            d.passed
                && d.tally.server_errors == 0
                && d.tally.schema_violations() == 0
                && d.tally.errors == 0
        })
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:>9} {:>5} {:>17} {:>7} {:>8}",
            "document", "requests", "5xx", "schema violations", "errors", "seconds"
        )?;
        for d in &self.documents {
            writeln!(
                f,
                "{:<12} {:>9} {:>5} {:>17} {:>7} {:>8.1}{}",
                d.document,
                d.tally.requests,
                d.tally.server_errors,
                d.tally.schema_violations(),
                d.tally.errors,
                d.took.as_secs_f64(),
                if d.passed {
                    String::new()
                } else {
                    format!("   FAILED: see {}", d.output.display())
                }
            )?;
            for (check, count) in &d.tally.violations {
                writeln!(f, "{:<12}   {count} failed {check}", "")?;
            }
        }
        write!(
            f,
            "{:<12} {:>9} {:>5} {:>17} {:>7} {:>8.1}",
            "total",
            self.requests(),
            self.server_errors(),
            self.schema_violations(),
            self.documents.iter().map(|d| d.tally.errors).sum::<u64>(),
            self.took.as_secs_f64()
        )
    }
}

/// The documents fuzzed: the gateway's alone. It holds every operation of the services'
/// documents (`docs/api/<service>.openapi.json`), so fuzzing those as well would send every
/// operation's cases twice; it is also the one that promises the gateway's own answers, and the
/// one clients read.
pub fn documents() -> Vec<PathBuf> {
    vec![workspace().join("docs/api/shop.openapi.json")]
}

/// Fuzzes every document against `system`, one after another (schemathesis runs one worker:
/// with more, Hypothesis 6.170 on Python 3.11 fails with "AST constructor recursion depth
/// mismatch").
pub fn run(system: &System, settings: &Settings) -> Run {
    std::fs::create_dir_all(&settings.report_dir).expect("create the report folder");
    let started = Instant::now();
    let documents = documents()
        .iter()
        .map(|document| run_document(system, settings, document))
        .collect();
    Run {
        documents,
        took: started.elapsed(),
    }
}

fn run_document(system: &System, settings: &Settings, document: &Path) -> DocumentRun {
    let name = document
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".openapi.json"))
        .unwrap_or("document")
        .to_owned();
    let events = settings.report_dir.join(format!("{name}.ndjson"));
    let output = settings.report_dir.join(format!("{name}.log"));
    let _ = std::fs::remove_file(&events);
    let workspace = workspace();
    let mut command = Command::new(workspace.join(".venv/bin/schemathesis"));
    command
        .arg("--config-file")
        .arg(workspace.join("tests/fixtures/schemathesis.toml"))
        .arg("run")
        .arg(document)
        .args(["--url", &system.api_url])
        .args(["--checks", &CHECKS.join(",")])
        .args(["--max-examples", &settings.max_examples.to_string()])
        .args(["--report", "ndjson", "--report-ndjson-path"])
        .arg(&events)
        .arg("--no-color")
        // Tokens reach the config through the environment, so they are on no command line.
        .env("SHOP_FUZZ_ADMIN_TOKEN", &system.admin_token)
        .env("SHOP_FUZZ_CUSTOMER_TOKEN", &system.customer_token)
        .current_dir(&settings.report_dir);
    // The API is devstack's HTTPS listener: schemathesis trusts its local CA, as the tests do.
    if let Some(ca) = system.local_ca() {
        command.arg("--tls-verify").arg(ca);
    }
    if let Some(seed) = settings.seed {
        command.args(["--seed", &seed.to_string()]);
    }
    if settings.deterministic {
        command.arg("--generation-deterministic");
    }
    let started = Instant::now();
    let result = command
        .output()
        .expect("run schemathesis from the project venv (`make venv`)");
    let took = started.elapsed();
    let mut log = result.stdout;
    log.extend_from_slice(&result.stderr);
    std::fs::write(&output, &log).expect("write schemathesis' output");
    let tally = Tally::from_ndjson(&std::fs::read_to_string(&events).unwrap_or_default());
    DocumentRun {
        document: name,
        tally,
        passed: result.status.success(),
        took,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(interactions: &[(&str, u16)], checks: &[(&str, &str, &str)]) -> String {
        let mut recorded = serde_json::Map::new();
        for (id, status) in interactions {
            recorded.insert(
                (*id).to_owned(),
                serde_json::json!({"request": {"method": "GET"}, "response": {"status_code": status}}),
            );
        }
        let mut outcomes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (id, name, status) in checks {
            outcomes
                .entry((*id).to_owned())
                .or_default()
                .push(serde_json::json!({"name": name, "status": status}));
        }
        serde_json::json!({"ScenarioFinished": {"recorder": {
            "label": "GET /x", "interactions": recorded, "checks": outcomes
        }}})
        .to_string()
    }

    #[test]
    fn requests_server_errors_and_failed_checks_are_counted_from_the_event_log() {
        let log = [
            r#"{"Initialize": {"seed": 1}}"#.to_owned(),
            scenario(
                &[("a", 200), ("b", 500), ("c", 404)],
                &[
                    ("a", "not_a_server_error", "success"),
                    ("a", "response_schema_conformance", "failure"),
                    ("b", "not_a_server_error", "failure"),
                    ("b", "status_code_conformance", "failure"),
                    ("c", "content_type_conformance", "failure"),
                ],
            ),
            scenario(&[("d", 201)], &[("d", "not_a_server_error", "success")]),
            "not json".to_owned(),
        ]
        .join("\n");
        let tally = Tally::from_ndjson(&log);
        assert_eq!(tally.requests, 4);
        assert_eq!(tally.server_errors, 1);
        assert_eq!(tally.schema_violations(), 3);
        assert_eq!(tally.violations["status_code_conformance"], 1);
        assert_eq!(tally.errors, 0);
    }

    #[test]
    fn a_case_that_never_got_a_response_is_no_request() {
        let log = serde_json::json!({"ScenarioFinished": {"recorder": {
            "interactions": {"a": {"request": {}, "response": null}}, "checks": {}
        }}})
        .to_string();
        assert_eq!(Tally::from_ndjson(&log).requests, 0);
    }

    #[test]
    fn errors_schemathesis_reports_about_itself_are_counted() {
        let log = r#"{"NonFatalError": {"label": "GET /x", "info": {}}}"#;
        assert_eq!(Tally::from_ndjson(log).errors, 1);
    }

    #[test]
    fn a_run_passes_only_without_server_errors_violations_or_errors() {
        let document = |tally: Tally, passed: bool| DocumentRun {
            document: "x".into(),
            tally,
            passed,
            took: Duration::ZERO,
            output: PathBuf::new(),
        };
        let clean = Tally {
            requests: 10,
            ..Tally::default()
        };
        let run = |documents| Run {
            documents,
            took: Duration::ZERO,
        };
        assert!(run(vec![document(clean.clone(), true)]).passed());
        assert!(!run(vec![document(clean.clone(), false)]).passed());
        let with_5xx = Tally {
            server_errors: 1,
            ..clean.clone()
        };
        assert!(!run(vec![document(with_5xx, true)]).passed());
        let with_violation = Tally {
            violations: BTreeMap::from([("response_schema_conformance".to_owned(), 1)]),
            ..clean
        };
        assert!(!run(vec![document(with_violation, true)]).passed());
    }
}
