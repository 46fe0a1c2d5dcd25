//! Least privilege, proven locally: devstack checks every AWS call a function makes against the
//! role the template gives it, as IAM does on AWS. The fixture's NarrowRecorderFunction runs
//! the same code as RecorderFunction with a role that may write another table only.

use serde_json::json;
use system_tests::system;

#[tokio::test]
async fn a_call_outside_the_functions_role_is_refused_with_the_missing_permission() {
    let system = system();
    let denied_before = system
        .counter("AccessDenied", "NarrowRecorderFunction")
        .await;

    let error = system
        .invoke("NarrowRecorderFunction", &json!({"probe": "narrow"}))
        .await
        .expect_err("its role does not allow writing the recorder table");

    let message = error.to_string();
    let table = format!("table/{}-RecorderTable", system.stack_name);
    assert!(
        message.contains("AccessDeniedException")
            && message.contains("not authorized to perform: dynamodb:PutItem")
            && message.contains(&table),
        "the function sees IAM's refusal naming the action and the resource: {message}"
    );
    assert_eq!(
        system
            .counter("AccessDenied", "NarrowRecorderFunction")
            .await,
        denied_before + 1
    );
}

#[tokio::test]
async fn the_same_call_passes_for_the_function_whose_role_allows_it() {
    let recorded = system()
        .invoke("RecorderFunction", &json!({"probe": "granted"}))
        .await
        .expect("its role allows writing the recorder table");
    assert!(recorded["recorded"].is_string(), "{recorded}");
}

#[tokio::test]
async fn grants_no_call_used_are_reported() {
    let system = system();
    // The narrowed grant (writing PoisonTable) is never used: that function writes elsewhere
    // (the first test invokes it; invoking it here too would race that test's counter).
    system
        .invoke("RecorderFunction", &json!({"probe": "used"}))
        .await
        .expect("recorded");

    let report = system.unused_grants().await;
    assert_eq!(
        report["NarrowRecorderFunction"][0]["statement"], "RecordElsewhere",
        "{report}"
    );
    assert!(
        report.get("RecorderFunction").is_none(),
        "RecorderFunction's one grant was used: {report}"
    );
}
