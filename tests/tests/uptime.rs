//! Uptime on devstack: the canary's `rate(1 minute)` schedule fires (devstack runs schedules,
//! which moto never does) and the canary finds every service's deep health ok, asked through
//! the public API as on AWS.

#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde_json::Value;
use system_tests::system;

/// The canary's checks in its log so far: each service's latest line.
fn latest_checks(log: &str) -> BTreeMap<String, Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "health check")
        .map(|line| (line["service"].as_str().unwrap().to_owned(), line))
        .collect()
}

#[tokio::test]
async fn the_canary_runs_on_its_schedule_and_finds_every_service_available() {
    let system = system();
    let Some(log_dir) = &system.log_dir else {
        return; // A stack started elsewhere keeps its logs elsewhere.
    };
    let log = log_dir.join("CanaryFunction.log");
    // The first run comes 5 s after start-up; the stack may still be seeding then.
    let deadline = Instant::now() + Duration::from_secs(90);
    let checks = loop {
        let checks = latest_checks(&std::fs::read_to_string(&log).unwrap_or_default());
        if checks.len() == 6 {
            break checks;
        }
        assert!(
            Instant::now() < deadline,
            "the canary did not check all six services: {checks:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        checks.keys().collect::<Vec<_>>(),
        [
            "auth",
            "catalog",
            "inventory",
            "orders",
            "payments",
            "shipping"
        ]
    );
    for (service, check) in &checks {
        assert_eq!(check["available"], true, "{service}: {check}");
        assert_eq!(check["status"], 200, "{service}: {check}");
        assert!(check["latency_ms"].as_f64().unwrap() > 0.0, "{check}");
    }
    assert!(
        system
            .counter("ScheduledRun", "CanaryFunctionEveryMinute")
            .await
            >= 1,
        "devstack fired the schedule"
    );
    // Its metrics went out as EMF lines, one per service and run.
    let log = std::fs::read_to_string(&log).unwrap();
    let emf = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("CanaryAvailability").is_some());
    let services: std::collections::BTreeSet<String> = emf
        .map(|line| line["service"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(services.len(), 6, "{services:?}");
}
