//! What devstack emulates as AWS does it: a DynamoDB stream into a function, a bus rule into a
//! function (with retries and a DLQ), a Step Functions task calling a function through the
//! edge, and the Lambda runtime's crashes, timeouts and concurrency.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};
use system_tests::system;

#[tokio::test]
async fn a_catalog_write_reaches_a_bus_subscriber_function() {
    let system = system();
    let sku = format!("WIRE-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let response = system
        .http()
        .post(system.url("/products"))
        .bearer_auth(&system.admin_token)
        .header("x-correlation-id", "wiring-test")
        .json(&json!({"sku": sku, "name": "Wired", "price_cents": 100, "currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let product: Value = response.json().await.unwrap();

    // HTTP → products table → stream → catalog-publisher → bus → rule → recorder function.
    let event = system
        .wait_for_recorded_event(|event| {
            event["detail"]["data"]["product_id"] == product["id"]
                && event["detail-type"] == "ProductCreated"
        })
        .await;
    assert_eq!(event["source"], "shop.catalog");
    assert_eq!(event["detail"]["sequence"], 1);
    assert_eq!(event["detail"]["correlation_id"], "wiring-test");
}

#[tokio::test]
async fn a_step_functions_task_invokes_a_function_through_the_edge() {
    let system = system();
    let config = system.sdk_config().await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let machines = sfn.list_state_machines().send().await.unwrap();
    let machine = machines
        .state_machines()
        .iter()
        .find(|m| m.name().ends_with("-RecorderStateMachine"))
        .expect("the fixture's state machine");

    let id = format!("sfn-{}", uuid::Uuid::new_v4());
    let execution = sfn
        .start_execution()
        .state_machine_arn(machine.state_machine_arn())
        .input(json!({"id": id, "hello": "world"}).to_string())
        .send()
        .await
        .unwrap();

    let started = Instant::now();
    let output = loop {
        let description = sfn
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .unwrap();
        match description.status() {
            ExecutionStatus::Succeeded => {
                break description.output().unwrap_or_default().to_owned();
            }
            ExecutionStatus::Running => {}
            other => panic!("execution ended {other:?}: {:?}", description.error()),
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "the execution did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let output: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(output["recorded"], id.as_str());
    assert_eq!(output["input"]["hello"], "world");
}

#[tokio::test]
async fn a_crashed_function_process_fails_its_invocation_and_is_replaced() {
    let system = system();
    let error = system
        .invoke("RecorderFunction", &json!({"crash": true}))
        .await
        .unwrap_err();
    assert_eq!(error["errorType"], "Runtime.ExitError");
    let recorded = system
        .invoke("RecorderFunction", &json!({"id": "after-crash"}))
        .await
        .unwrap();
    assert_eq!(recorded["recorded"], "after-crash");
}

#[tokio::test]
async fn an_invocation_past_the_timeout_fails_and_the_process_is_replaced() {
    let system = system();
    // The fixture's Timeout is 2 s.
    let error = system
        .invoke("RecorderFunction", &json!({"sleep_ms": 3000}))
        .await
        .unwrap_err();
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    let recorded = system
        .invoke("RecorderFunction", &json!({"id": "after-timeout"}))
        .await
        .unwrap();
    assert_eq!(recorded["recorded"], "after-timeout");
}

#[tokio::test]
async fn concurrent_invocations_share_at_most_the_concurrency_limit_of_processes() {
    let system = system();
    let payloads: Vec<Value> = (0..8)
        .map(|n| json!({"id": format!("burst-{n}"), "sleep_ms": 400}))
        .collect();
    let calls = payloads
        .iter()
        .map(|payload| system.invoke("RecorderFunction", payload));
    let answers = futures::future::join_all(calls).await;
    let pids: std::collections::HashSet<u64> = answers
        .iter()
        .map(|a| a.as_ref().unwrap()["pid"].as_u64().unwrap())
        .collect();
    // devstack's default concurrency is 4: eight slow calls need more than one process and
    // never get more than four.
    assert!((2..=4).contains(&pids.len()), "{} processes", pids.len());
}

/// EventBridge hands a function its events as asynchronous invocations: a failing function is
/// retried twice by Lambda, then the event goes to the function's on-failure destination, or is
/// lost without one. The rule's DLQ only sees events Lambda would not accept.
#[tokio::test]
async fn a_failing_rule_target_is_tried_three_times_then_parked_or_lost_never_sent_to_the_rule_dlq()
{
    let system = system();
    let sqs = aws_sdk_sqs::Client::new(&system.sdk_config().await);
    let rule_dlq = system.queue_url("RecorderDLQ").await;
    let lost_before = system.counter("AsyncLost", "LossyRecorderFunction").await;
    let attempts_before = system
        .counter("AsyncAttempt", "LossyRecorderFunction")
        .await;

    let sku = format!("FAIL-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let response = system
        .http()
        .post(system.url("/products"))
        .bearer_auth(&system.admin_token)
        .json(&json!({"sku": sku, "name": "fail-the-recorder", "price_cents": 100, "currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let ours = |event: &Value| event["detail"]["data"]["sku"] == sku.as_str();

    // The recorder has a destination: its failure record carries the whole event.
    let record = system
        .wait_for_message("RecorderFailures", |record| ours(&record["requestPayload"]))
        .await;
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");

    // The lossy recorder has none: three attempts, then the event is gone, counted and logged.
    let deadline = Instant::now() + Duration::from_secs(40);
    while system.counter("AsyncLost", "LossyRecorderFunction").await == lost_before {
        assert!(
            Instant::now() < deadline,
            "the event was never reported lost"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        system.counter("AsyncLost", "LossyRecorderFunction").await,
        lost_before + 1
    );
    assert_eq!(
        system
            .counter("AsyncAttempt", "LossyRecorderFunction")
            .await,
        attempts_before + 3
    );
    if let Some(log_dir) = &system.log_dir {
        let log = std::fs::read_to_string(log_dir.join("LossyRecorderFunction.log")).unwrap();
        assert!(
            log.contains("lost: asynchronous invocation failed after 3 attempts"),
            "{log}"
        );
    }

    // Neither event ever reached the rule's DLQ.
    let in_rule_dlq = sqs
        .receive_message()
        .queue_url(&rule_dlq)
        .wait_time_seconds(1)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert!(
        !in_rule_dlq
            .messages()
            .iter()
            .filter_map(|m| serde_json::from_str::<Value>(m.body().unwrap_or_default()).ok())
            .any(|event| ours(&event)),
        "a function's failure is not a delivery failure"
    );
}

/// A stream batch with a poison record: bisection isolates it, it is retried twice, then its
/// description goes to the on-failure destination, and the records around it are processed.
#[tokio::test]
async fn a_poison_stream_record_is_isolated_retried_and_described_while_its_neighbours_pass() {
    let system = system();
    let config = system.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("{}-PoisonTable", system.stack_name);
    let discarded_before = system
        .counter("StreamDiscarded", "StreamRecorderFunction")
        .await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    for (id, poison) in [("before", false), ("poison", true), ("after", false)] {
        dynamodb
            .put_item()
            .table_name(&table)
            .item("id", AttributeValue::S(format!("{run}-{id}")))
            .item("poison", AttributeValue::Bool(poison))
            .send()
            .await
            .unwrap();
    }

    for neighbour in ["before", "after"] {
        let id = format!("{run}-{neighbour}");
        system
            .wait_for_recorded_event(|record| {
                record["dynamodb"]["NewImage"]["id"]["S"] == id.as_str()
            })
            .await;
    }
    let description = system.wait_for_message("PoisonRecords", |_| true).await;
    assert_eq!(
        description["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(description["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(description["DDBStreamBatchInfo"]["batchSize"], 1);
    assert_eq!(
        system
            .counter("StreamDiscarded", "StreamRecorderFunction")
            .await,
        discarded_before + 1
    );
}

/// A failure queue is only useful if what waits there can go back: an event the function failed
/// on (an injected fault, three attempts) is parked, and redriven it completes.
#[tokio::test]
async fn a_parked_event_completes_when_redriven() {
    let system = system();
    let sku = format!(
        "REDRIVE-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
    .to_uppercase();
    let fault = system
        .arm_fault("FlakyRecorderFunction", &sku, json!({"type": "fail"}), 3)
        .await;
    let response = system
        .http()
        .post(system.url("/products"))
        .bearer_auth(&system.admin_token)
        .json(&json!({"sku": sku, "name": "flaky-recorder", "price_cents": 100, "currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    // Lambda's three attempts all failed, so the event waits in the on-failure queue.
    let deadline = Instant::now() + Duration::from_secs(40);
    while system.counter("AsyncParked", "FlakyRecorderFunction").await == 0 {
        assert!(Instant::now() < deadline, "the event was never parked");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(system.counter("FaultFired", &fault).await, 3);

    let report = system.redrive("FlakyRecorderFailures").await;
    assert_eq!((report.sent, report.kept), (1, 0));
    let recorded = system
        .wait_for_recorded_event(|event| event["detail"]["data"]["sku"] == sku.as_str())
        .await;
    assert_eq!(recorded["detail"]["data"]["name"], "flaky-recorder");
}
