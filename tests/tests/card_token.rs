//! The card token never travels in clear. Orders are placed with card tokens no one else uses
//! and run through the saga's happy, declined and compensating paths; then every place the
//! system keeps what passed through it is read back through the AWS APIs and the functions'
//! logs, and the token appears in none of them, neither as text nor base64-encoded:
//!
//! - the event log group (and every other CloudWatch Logs group), which receives every event
//!   on the bus;
//! - every Step Functions execution's input, output and history;
//! - every DynamoDB table, the orders event store among them;
//! - every function's log, and devstack's own.
//!
//! The bus archive takes the same events as the event log group (both every event on the bus),
//! and AWS offers no way to read an archive but to replay it onto the bus, which would run every
//! consumer again; the test checks that the archive records events and reads them in the log
//! group.
//!
//! Before card tokens were sealed, the token sat in clear in the OrderPlaced event (so in the
//! event store's item and the event log group's entry), in the saga's input (the execution's
//! ExecutionStarted event) and in AuthorizePayment's parameters: each check below reads those
//! very fields, and proves it by finding the orders' ids and sealed tokens there.

#![allow(clippy::unwrap_used)]

mod orders_common;

use aws_sdk_sfn::types::HistoryEvent;
use base64::{Engine, engine::general_purpose::STANDARD};
use orders_common::{order_when, paid_with, place, saga_run, stocked_product};
use serde_json::Value;
use system_tests::system;

/// Places an order of one unit paid with `card_token` and waits until the saga and the
/// choreography have settled it; returns the order.
async fn settle(product_id: &str, card_token: &str) -> Value {
    let token = &system().customer_token;
    let placed = place(token, &paid_with(&[(product_id, 1)], card_token), None).await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    let order = order_when(&id, token, |order| {
        order["status"] == "REJECTED" || order["status"] == "SHIPPED"
    })
    .await;
    // The saga's history is complete once its execution has ended.
    assert_eq!(saga_run(&id).await.status, "SUCCEEDED", "{order}");
    order
}

/// The token as text, and the runs of base64 that encode it whatever its offset in a longer
/// encoded value.
fn needles(token: &str) -> Vec<String> {
    let mut needles = vec![token.to_owned()];
    for offset in 0..3 {
        let encoded = STANDARD.encode(format!("{}{token}", "x".repeat(offset)));
        // The first group holds the padding's bytes, the last two may hold what follows.
        needles.push(encoded[4..encoded.len() - 8].to_owned());
    }
    needles
}

/// Where `text`, read from `place`, holds one of the tokens, if it does.
fn leaks(place: &str, text: &str, tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .flat_map(|token| needles(token).into_iter().map(move |n| (token, n)))
        .filter(|(_, needle)| text.contains(needle))
        .map(|(token, needle)| format!("{place} holds {token} (as {needle:?})"))
        .collect()
}

/// Every message of every log group.
async fn log_groups_text() -> (Vec<String>, String) {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&system().sdk_config().await);
    let groups: Vec<String> = logs
        .describe_log_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|group| group.unwrap().log_group_name.unwrap())
        .collect();
    let mut text = String::new();
    for group in &groups {
        let pages = logs
            .filter_log_events()
            .log_group_name(group)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        for page in pages {
            for event in page.unwrap().events() {
                text.push_str(event.message().unwrap_or_default());
                text.push('\n');
            }
        }
    }
    (groups, text)
}

/// Every text a history event holds: inputs, outputs, task parameters, errors and causes
/// (the SDK prints these as redacted in `Debug`, so each is read by name).
fn history_text(event: &HistoryEvent) -> String {
    let mut parts: Vec<Option<&str>> = Vec::new();
    if let Some(d) = event.execution_started_event_details() {
        parts.push(d.input());
    }
    if let Some(d) = event.execution_succeeded_event_details() {
        parts.push(d.output());
    }
    if let Some(d) = event.execution_failed_event_details() {
        parts.extend([d.error(), d.cause()]);
    }
    if let Some(d) = event.state_entered_event_details() {
        parts.push(d.input());
    }
    if let Some(d) = event.state_exited_event_details() {
        parts.push(d.output());
    }
    if let Some(d) = event.task_scheduled_event_details() {
        parts.push(Some(d.parameters()));
    }
    if let Some(d) = event.task_submitted_event_details() {
        parts.push(d.output());
    }
    if let Some(d) = event.task_succeeded_event_details() {
        parts.push(d.output());
    }
    if let Some(d) = event.task_failed_event_details() {
        parts.extend([d.error(), d.cause()]);
    }
    if let Some(d) = event.task_timed_out_event_details() {
        parts.extend([d.error(), d.cause()]);
    }
    if let Some(d) = event.lambda_function_scheduled_event_details() {
        parts.push(d.input());
    }
    if let Some(d) = event.lambda_function_succeeded_event_details() {
        parts.push(d.output());
    }
    if let Some(d) = event.lambda_function_failed_event_details() {
        parts.extend([d.error(), d.cause()]);
    }
    if let Some(d) = event.lambda_function_timed_out_event_details() {
        parts.extend([d.error(), d.cause()]);
    }
    if let Some(d) = event.evaluation_failed_event_details() {
        parts.extend([d.error(), d.cause()]);
    }
    parts.into_iter().flatten().collect::<Vec<_>>().join("\n")
}

/// Every execution of every state machine: its name, and its input, output and history.
async fn executions_text() -> Vec<(String, String)> {
    let sfn = aws_sdk_sfn::Client::new(&system().sdk_config().await);
    let machines = sfn.list_state_machines().send().await.unwrap();
    let mut executions = Vec::new();
    for machine in machines.state_machines() {
        let listed = sfn
            .list_executions()
            .state_machine_arn(machine.state_machine_arn())
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        for execution in listed {
            let execution = execution.unwrap();
            let arn = execution.execution_arn();
            let described = sfn.describe_execution().execution_arn(arn).send().await;
            let described = described.unwrap();
            let mut text = [described.input(), described.output()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            let history = sfn
                .get_execution_history()
                .execution_arn(arn)
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>()
                .await;
            for event in history {
                text.push('\n');
                text.push_str(&history_text(&event.unwrap()));
            }
            executions.push((execution.name().to_owned(), text));
        }
    }
    executions
}

/// Every item of every table, as text.
async fn tables_text() -> Vec<(String, String)> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&system().sdk_config().await);
    let tables = dynamodb.list_tables().send().await.unwrap();
    let mut texts = Vec::new();
    for table in tables.table_names() {
        let items = dynamodb
            .scan()
            .table_name(table)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let text = items
            .into_iter()
            .map(|item| format!("{:?}", item.unwrap()))
            .collect::<Vec<_>>()
            .join("\n");
        texts.push((table.clone(), text));
    }
    texts
}

/// Every file in the stack's log folder (the functions' logs and devstack's).
fn log_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(log_files(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            files.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    files
}

#[tokio::test]
async fn no_card_token_is_kept_in_clear_by_the_bus_the_saga_the_tables_or_the_logs() {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tokens: Vec<String> = ["tok_visa", "tok_declined", "tok_timeout"]
        .iter()
        .map(|name| format!("{name}+leak-check-{run}"))
        .collect();
    let (product, _) = stocked_product(1999, 10).await;
    let orders =
        futures::future::join_all(tokens.iter().map(|token| settle(&product, token))).await;
    let outcomes: Vec<(&str, Option<&str>)> = orders
        .iter()
        .map(|o| (o["status"].as_str().unwrap(), o["reason"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("SHIPPED", None),
            ("REJECTED", Some("PaymentDeclined")),
            ("REJECTED", Some("PaymentTimeout")),
        ],
        "the happy, declined and compensating paths"
    );
    let ids: Vec<&str> = orders
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();

    let (groups, logged) = log_groups_text().await;
    assert!(
        groups.iter().any(|g| g.starts_with("/aws/events/")),
        "the event log group: {groups:?}"
    );
    for id in &ids {
        assert!(
            logged
                .lines()
                .any(|line| line.contains(id) && line.contains("card_token_ciphertext")),
            "the event log holds no OrderPlaced of {id}"
        );
    }
    let mut found = leaks("the log groups", &logged, &tokens);

    let executions = executions_text().await;
    for id in &ids {
        let (_, text) = executions
            .iter()
            .find(|(name, _)| name == id)
            .unwrap_or_else(|| panic!("no execution of {id}"));
        assert!(
            text.contains("card_token_ciphertext") && text.contains("AuthorizePayment"),
            "the history of {id} was not read: {text}"
        );
    }
    for (name, text) in &executions {
        found.extend(leaks(&format!("execution {name}"), text, &tokens));
    }

    let tables = tables_text().await;
    let event_store = tables
        .iter()
        .find(|(name, _)| name.ends_with("-OrderEventsTable"))
        .expect("the orders event store");
    for id in &ids {
        assert!(event_store.1.contains(id), "{id} is not in the event store");
    }
    for (name, text) in &tables {
        found.extend(leaks(&format!("table {name}"), text, &tokens));
    }

    if let Some(log_dir) = &system().log_dir {
        let files = log_files(log_dir);
        let all: String = files.iter().map(|(_, text)| text.as_str()).collect();
        for id in &ids {
            assert!(all.contains(id), "no log mentions {id}");
        }
        for (name, text) in &files {
            found.extend(leaks(name, text, &tokens));
        }
    }

    assert!(found.is_empty(), "{found:#?}");

    let events = aws_sdk_eventbridge::Client::new(&system().sdk_config().await);
    let archives = events.list_archives().send().await.unwrap();
    assert!(
        archives.archives().iter().any(|a| a.event_count() > 0),
        "the bus archive records events: {archives:?}"
    );
}
