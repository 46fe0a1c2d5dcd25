//! House rules the compiler cannot keep, kept by reading the services' source
//! (`functions/*/src`): the DynamoDB and Lambda glue lives once in `shared/`, and an event
//! field is never read with a default; and the system tests' own (`tests/tests`): HTTP goes
//! through the one client that trusts the API's certificate. Each rule names where its one
//! implementation is.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// Which source files a rule reads.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Everything under `functions/*/src`.
    Services,
    /// `functions/*/src/{adapters,entrypoints}`: where events and stored items are read.
    AdaptersAndEntrypoints,
    /// Everything under `tests/tests`.
    SystemTests,
}

#[derive(Debug)]
struct Rule {
    says: &'static str,
    scope: Scope,
    breaks: fn(&str) -> bool,
}

/// A JSON value read as a typed scalar (`v["x"].as_str()`, `image["n"].as_u64()`).
fn reads_json_field(code: &str) -> bool {
    code.contains("[\"")
        || [".as_str()", ".as_u64()", ".as_i64()", ".as_bool()"]
            .iter()
            .any(|read| code.contains(read))
}

const RULES: &[Rule] = &[
    Rule {
        says: "DynamoDB errors keep their source (shop_aws::dynamo::DynamoError), never a String",
        scope: Scope::Services,
        breaks: |code| code.contains("Dynamo(String)"),
    },
    Rule {
        says: "tables are connected by shop_aws::dynamo::connect",
        scope: Scope::Services,
        breaks: |code| code.contains("describe_table"),
    },
    Rule {
        says: "cancelled transactions are read by shop_aws::dynamo::classify_transaction",
        scope: Scope::Services,
        breaks: |code| {
            code.contains("cancellation_reasons") || code.contains("TransactionCanceledException")
        },
    },
    Rule {
        says: "a task's failure is shop_events::TaskError, run by shop_events::run_task",
        scope: Scope::Services,
        breaks: |code| code.contains("struct TaskError") || code.contains("Diagnostic"),
    },
    Rule {
        says: "bus events are read through a typed inbox (shop_events::inbox!), not by indexing",
        scope: Scope::AdaptersAndEntrypoints,
        breaks: |code| code.contains("[\"detail\"]") || code.contains("detail["),
    },
    Rule {
        says: "a missing field is an error, never an empty value (no unwrap_or_default on a read field)",
        scope: Scope::AdaptersAndEntrypoints,
        breaks: |code| code.contains("unwrap_or_default()") && reads_json_field(code),
    },
    Rule {
        says: "system tests call HTTP with system_tests::System::http, which trusts devstack's local CA (a default client refuses its certificate)",
        scope: Scope::SystemTests,
        breaks: |code| {
            [
                "reqwest::get(",
                "reqwest::Client::new()",
                "reqwest::Client::builder()",
            ]
            .iter()
            .any(|call| code.contains(call))
        },
    },
];

/// The code of a file as rustfmt lays out one expression: a method chain continued on lines
/// that start with `.` or `?` is one line, so a rule sees a read and its default together.
/// Comments are dropped; each line keeps the number of its first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default().trim();
        match lines.last_mut() {
            Some((_, joined)) if code.starts_with('.') || code.starts_with('?') => {
                joined.push_str(code);
            }
            _ => lines.push((index + 1, code.to_owned())),
        }
    }
    lines
}

/// The Rust files at `path`: the file itself, or every one below the folder.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.extension().is_some_and(|ext| ext == "rs") {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(path) else {
        return files;
    };
    for entry in entries {
        files.extend(rust_files(&entry.unwrap().path()));
    }
    files
}

fn files_in(scope: Scope) -> Vec<PathBuf> {
    if let Scope::SystemTests = scope {
        // This file quotes the patterns it looks for.
        return rust_files(&shop_testkit::workspace_root().join("tests/tests"))
            .into_iter()
            .filter(|f| !f.ends_with("house_rules.rs"))
            .collect();
    }
    let functions = shop_testkit::workspace_root().join("functions");
    let mut files = Vec::new();
    for service in std::fs::read_dir(&functions).unwrap() {
        let src = service.unwrap().path().join("src");
        match scope {
            Scope::Services => files.extend(rust_files(&src)),
            Scope::AdaptersAndEntrypoints => {
                for room in ["adapters", "adapters.rs", "entrypoints", "entrypoints.rs"] {
                    files.extend(
                        rust_files(&src.join(room))
                            .into_iter()
                            .filter(|f| f.exists()),
                    );
                }
            }
            Scope::SystemTests => unreachable!("read above"),
        }
    }
    files
}

fn violations(rule: &Rule, path: &Path, text: &str) -> Vec<String> {
    logical_lines(text)
        .into_iter()
        .filter(|(_, code)| (rule.breaks)(code))
        .map(|(line, code)| format!("{}:{line}: {}\n    {code}", path.display(), rule.says))
        .collect()
}

#[test]
fn the_services_keep_the_house_rules() {
    let root = shop_testkit::workspace_root();
    let mut found = Vec::new();
    for rule in RULES {
        let files = files_in(rule.scope);
        assert!(!files.is_empty(), "no files for {rule:?}");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let shown = path.strip_prefix(&root).unwrap_or(&path);
            found.extend(violations(rule, shown, &text));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The rules catch what they were written against, and only that.
#[test]
fn the_rules_catch_the_old_patterns_and_spare_legitimate_defaults() {
    let caught = |code: &str| -> Vec<&str> {
        RULES
            .iter()
            .filter(|rule| !violations(rule, Path::new("x.rs"), code).is_empty())
            .map(|rule| rule.says)
            .collect()
    };
    for old in [
        "    Dynamo(String),",
        "        self.client.describe_table().table_name(table).send().await?;",
        "    let failed = cancelled.cancellation_reasons().iter();",
        "pub struct TaskError {",
        "            .map_err(|error| Diagnostic {",
        "    let order_id = detail[\"data\"][\"order_id\"].as_str().unwrap_or_default();",
        "    let order_id = image[\"order_id\"]\n        .as_str()\n        .unwrap_or_default()\n        .to_owned();",
        "        correlation_id = %event.correlation_id.as_str().unwrap_or_default(),",
        "    let page = reqwest::get(system().url(\"/docs\")).await.unwrap();",
        "    let response = reqwest::Client::new()\n        .post(system.url(\"/products\"))",
    ] {
        assert!(!caught(old).is_empty(), "not caught: {old}");
    }
    for legitimate in [
        "            for item in page.items.unwrap_or_default() {",
        "        let items = output\n            .items\n            .unwrap_or_default()\n            .into_iter();",
        "            id_token: result.id_token.unwrap_or_default(),",
        "    // Not a Dynamo(String): the SDK error stays the source.",
        "    let response = system\n        .http()\n        .post(system.url(\"/products\"))",
    ] {
        assert_eq!(caught(legitimate), Vec::<&str>::new(), "{legitimate}");
    }
}
