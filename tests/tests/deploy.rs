//! `cargo lambda deploy` against devstack's edge swaps a function's code in the running stack,
//! as it does on AWS: a new version behind the alias the API invokes, while calls in flight
//! finish on the code they started with.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use serde_json::Value;
use system_tests::{System, system, workspace};

const FUNCTION: &str = "CatalogHttpFunction";

/// The code `live` runs, as `aws lambda get-function --qualifier live` reports it.
async fn live_configuration(system: &System) -> Value {
    let url = format!(
        "{}/2015-03-31/functions/{}-{FUNCTION}?Qualifier=live",
        system.edge(),
        system.stack_name
    );
    let function: Value = system
        .http()
        .get(url)
        .send()
        .await
        .expect("the edge answers GetFunction")
        .json()
        .await
        .expect("GetFunction answers JSON");
    function["Configuration"].clone()
}

/// `cargo lambda deploy --binary-path <binary> --alias live <function>` against the edge.
fn deploy(system: &System, binary: &Path) -> Instant {
    let cargo_lambda = workspace().join(".venv/bin/cargo-lambda");
    let output = Command::new(&cargo_lambda)
        .args(["lambda", "deploy", "--endpoint-url", system.edge()])
        .args([
            "--region",
            &system.region,
            "--alias",
            "live",
            "--binary-path",
        ])
        .arg(binary)
        .arg(format!("{}-{FUNCTION}", system.stack_name))
        .env("AWS_ACCESS_KEY_ID", "deployer")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .current_dir(workspace())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run {} (make venv installs it): {e}",
                cargo_lambda.display()
            )
        });
    assert!(
        output.status.success(),
        "cargo lambda deploy failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Instant::now()
}

async fn health(system: &System, query: &str) -> Value {
    let response = system
        .http()
        .get(system.url(&format!("/catalog/health{query}")))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON answer")
}

fn built(binary: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_swap-probe")).with_file_name(binary)
}

#[tokio::test]
async fn cargo_lambda_deploy_swaps_the_code_behind_the_alias_while_calls_in_flight_finish_on_the_old_code()
 {
    let system = system();
    let started_with = live_configuration(system).await;
    assert_eq!(started_with["Version"], "1");
    assert!(
        health(system, "").await["probe"].is_null(),
        "the catalog's own code answers first"
    );

    deploy(system, &built("swap-probe"));
    let probe = live_configuration(system).await;
    assert_eq!(probe["Version"], "2");
    assert_ne!(probe["CodeSha256"], started_with["CodeSha256"]);
    assert_eq!(
        health(system, "").await,
        serde_json::json!({ "probe": true, "version": "2" }),
        "the API answers from the new code, as the version behind live"
    );

    // A call held inside version 2 while version 3 (the catalog's code again) goes live.
    let gate = std::env::temp_dir().join(format!("swap-gate-{}", uuid::Uuid::new_v4()));
    let query = format!("?gate={}", gate.display());
    let in_flight = tokio::spawn(async move { health(system_tests::system(), &query).await });
    let entered = gate.with_extension("entered");
    let waiting = Instant::now();
    while !entered.exists() {
        assert!(
            waiting.elapsed().as_secs() < 30,
            "the held call never reached the probe"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    deploy(system, &built("catalog-http"));
    std::fs::write(&gate, b"").expect("open the gate");
    let held = in_flight.await.expect("the held call ends");
    let _ = std::fs::remove_file(&gate);
    let _ = std::fs::remove_file(&entered);

    assert_eq!(
        held,
        serde_json::json!({ "probe": true, "version": "2" }),
        "the call in flight finished on the code it started with"
    );
    let restored = live_configuration(system).await;
    assert_eq!(restored["Version"], "3");
    assert_ne!(restored["CodeSha256"], probe["CodeSha256"]);
    assert!(
        health(system, "").await["probe"].is_null(),
        "new calls run version 3, the catalog's code"
    );
}
