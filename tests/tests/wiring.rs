//! The wiring devstack emulates as AWS does it: a DynamoDB stream into a function, a bus rule
//! into a function, and a Step Functions task calling a function through the edge.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};
use system_tests::system;

#[tokio::test]
async fn a_catalog_write_reaches_a_bus_subscriber_function() {
    let system = system();
    let sku = format!("WIRE-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let response = reqwest::Client::new()
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
            started.elapsed() < Duration::from_secs(20),
            "the execution did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let output: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(output["recorded"], id.as_str());
    assert_eq!(output["input"]["hello"], "world");
}
