//! A small, repeatable round of API fuzzing inside `make test`: schemathesis against the
//! gateway's OpenAPI document on this process's own devstack, with a fixed seed, deterministic
//! generation and few examples per operation (`make fuzz` runs the long, random rounds).

use std::time::Duration;

use system_tests::fuzz::{self, Settings};

#[test]
fn generated_requests_get_no_server_error_and_only_documented_answers() {
    let system = system_tests::system();
    let settings = Settings {
        max_examples: 5,
        seed: Some(1),
        deterministic: true,
        report_dir: system_tests::workspace()
            .join(format!("target/fuzz/test-{}", std::process::id())),
    };
    let run = fuzz::run(system, &settings);
    println!("{run}");
    assert_eq!(
        run.documents.len(),
        fuzz::documents().len(),
        "every document was fuzzed"
    );
    assert!(
        run.documents.iter().all(|d| d.tally.requests > 0),
        "every document's operations were called:\n{run}"
    );
    assert!(
        run.passed(),
        "schemathesis found failures (the failing requests and how to replay them are in {}):\n{run}",
        settings.report_dir.display()
    );
    assert!(
        run.took < Duration::from_secs(90),
        "the round stays short: {run}"
    );
}
