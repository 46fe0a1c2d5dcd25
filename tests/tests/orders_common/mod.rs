//! Helpers of the orders system tests: products created through the catalog, customers
//! through auth, orders through the HTTP API, and the saga's execution through the AWS
//! endpoint.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use system_tests::system;

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

pub async fn call(
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> Reply {
    let mut request = system()
        .http()
        .request(method, system().url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

pub async fn get(path: &str, token: &str) -> Reply {
    call(reqwest::Method::GET, path, token, None, None).await
}

/// A new product (created by the admin through the catalog); returns its id.
pub async fn product(price_cents: i64) -> String {
    product_with_sku(price_cents).await.0
}

/// A new product with `on_hand` units in stock; returns its id and SKU.
pub async fn stocked_product(price_cents: i64, on_hand: i64) -> (String, String) {
    let (id, sku) = product_with_sku(price_cents).await;
    let stocked = call(
        reqwest::Method::PUT,
        &format!("/inventory/{sku}"),
        &system().admin_token,
        Some(&json!({"on_hand": on_hand})),
        None,
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.body);
    (id, sku)
}

/// A new product; returns its id and SKU.
pub async fn product_with_sku(price_cents: i64) -> (String, String) {
    let sku = format!("SYS-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]).to_uppercase();
    let created = call(
        reqwest::Method::POST,
        "/products",
        &system().admin_token,
        Some(&json!({"sku": sku, "name": "System test item", "price_cents": price_cents, "currency": "EUR"})),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    (created.body["id"].as_str().unwrap().to_owned(), sku)
}

pub fn order_body(lines: &[(&str, u32)]) -> Value {
    paid_with(lines, "tok_visa")
}

pub fn paid_with(lines: &[(&str, u32)], card_token: &str) -> Value {
    json!({
        "items": lines.iter().map(|(id, quantity)| json!({"product_id": id, "quantity": quantity})).collect::<Vec<_>>(),
        "payment": {"card_token": card_token},
        "shipping_address": {"name": "Carl", "line1": "1 Main St", "postal_code": "10115", "city": "Berlin", "country": "DE"}
    })
}

/// Places an order, waiting while orders' copy of the catalog has not yet heard of a new
/// product (the catalog's events reach orders over the bus, a moment after the catalog write).
pub async fn place(token: &str, body: &Value, key: Option<&str>) -> Reply {
    let started = Instant::now();
    loop {
        let reply = call(reqwest::Method::POST, "/orders", token, Some(body), key).await;
        let unknown_product = reply.status == 400
            && reply
                .body
                .to_string()
                .contains("is not a product of the catalog");
        if !unknown_product || started.elapsed() > Duration::from_mins(1) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads an order until its view satisfies `ready` (the read model follows the events).
pub async fn order_when(id: &str, token: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let reply = get(&format!("/orders/{id}"), token).await;
        if reply.status == 200 && ready(&reply.body) {
            return reply.body;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "order {id} never got there: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A second customer, signed up through auth; returns their access token.
pub async fn another_customer() -> String {
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "Another-Passw0rd-1";
    let client = system().http();
    let signup = client
        .post(system().url("/auth/signup"))
        .json(&json!({"email": email, "password": password, "name": "Other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let login: Value = client
        .post(system().url("/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}

/// Units of a SKU available now.
pub async fn available(sku: &str) -> i64 {
    get(&format!("/inventory/{sku}"), &system().customer_token)
        .await
        .body["available"]
        .as_i64()
        .unwrap()
}

/// The status of an order's payment, if it has one (read as the admin).
pub async fn payment_status(order_id: &str) -> Option<String> {
    let reply = get(&format!("/payments/{order_id}"), &system().admin_token).await;
    reply.body["status"].as_str().map(str::to_owned)
}

/// The order's events (type names, in sequence) once they satisfy `ready`: the event store is
/// current as soon as a command is stored, unlike the view.
pub async fn events_when(id: &str, token: &str, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
    let started = Instant::now();
    loop {
        let reply = get(&format!("/orders/{id}/events"), token).await;
        let types: Vec<String> = reply
            .body
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|event| event["type"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if reply.status == 200 && ready(&types) {
            return types;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "the events of order {id} never got there: {types:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A customer whose orders ask shipping's hold hook to hold their OrderConfirmed (its id starts
/// with shipping's `HELD_CUSTOMER_PREFIX`): a token of the system's user pool for that id.
pub fn customer_held_by_shipping() -> String {
    let system = system();
    let sub = format!(
        "{}{}",
        shipping::config::HELD_CUSTOMER_PREFIX,
        uuid::Uuid::new_v4().simple()
    );
    system_tests::mint_token(
        &json!({
            "sub": sub,
            "iss": system.issuer(),
            "client_id": system.user_pool_client_id,
            "token_use": "access",
            "cognito:groups": ["customer"],
            "iat": system_tests::now(),
            "exp": system_tests::now() + 3600,
        }),
        false,
    )
}

/// The card provider's books for an order: (authorized, voided, refunded) cents, from the
/// payments admin API.
pub async fn provider_books(order_id: &str) -> (i64, i64, i64) {
    let reply = get(&format!("/payments/{order_id}"), &system().admin_token).await;
    let provider = &reply.body["provider"];
    let cents = |field: &str| {
        provider[field]
            .as_i64()
            .unwrap_or_else(|| panic!("{}", reply.body))
    };
    (
        cents("authorized_cents"),
        cents("voided_cents"),
        cents("refunded_cents"),
    )
}

/// A finished place-order execution: how it ended and the states it went through, each with
/// the number of times its task was attempted (0 for a state without a task).
#[derive(Debug, PartialEq, Eq)]
pub struct SagaRun {
    pub status: String,
    pub steps: Vec<(String, u32)>,
}

/// The order's place-order run once it has ended, read from the saga's execution log (the
/// state machine logs every event to its log group). Step Functions keeps no history of an
/// Express execution, so the suite reads what either workflow type writes.
pub async fn saga_run(order_id: &str) -> SagaRun {
    let lines = saga_log(order_id).await;
    let mut steps: Vec<(String, u32)> = Vec::new();
    let mut status = String::new();
    for line in &lines {
        let event_type = line["type"].as_str().unwrap_or_default();
        if event_type.ends_with("StateEntered") {
            let state = line["details"]["name"].as_str().unwrap_or_default();
            steps.push((state.to_owned(), 0));
        } else if event_type == "TaskScheduled"
            && let Some((_, attempts)) = steps.last_mut()
        {
            *attempts += 1;
        } else if let Some(outcome) = execution_outcome(event_type) {
            outcome.clone_into(&mut status);
        }
    }
    SagaRun { status, steps }
}

/// How many place-order executions ran for `order_ids`, each counted once it has ended.
pub async fn executions_of(order_ids: &[String]) -> usize {
    let mut count = 0;
    for order_id in order_ids {
        let lines = saga_log(order_id).await;
        let mut executions: Vec<&str> = lines
            .iter()
            .filter_map(|line| line["execution_arn"].as_str())
            .collect();
        executions.sort_unstable();
        executions.dedup();
        count += executions.len();
    }
    count
}

/// An ended execution's status, from the log event that ended it.
fn execution_outcome(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "ExecutionSucceeded" => "SUCCEEDED",
        "ExecutionFailed" => "FAILED",
        "ExecutionTimedOut" => "TIMED_OUT",
        "ExecutionAborted" => "ABORTED",
        _ => return None,
    })
}

/// The order's execution log lines (JSON), in the order they happened, once every execution
/// of the order has ended; waits up to two minutes for them (AWS delivers a run's log within
/// seconds, devstack once the run has ended).
async fn saga_log(order_id: &str) -> Vec<Value> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&system().sdk_config().await);
    let group = format!("/aws/vendedlogs/states/{}-place-order", system().stack_name);
    let started = Instant::now();
    loop {
        let mut lines = Vec::new();
        let mut next_token = None;
        loop {
            let page = logs
                .filter_log_events()
                .log_group_name(&group)
                .filter_pattern(format!("\"{order_id}\""))
                .set_next_token(next_token)
                .send()
                .await
                .unwrap();
            lines.extend(
                page.events()
                    .iter()
                    .filter_map(|event| serde_json::from_str::<Value>(event.message()?).ok())
                    // The execution's name is the order's id (an Express ARN adds a suffix).
                    .filter(|line| {
                        line["execution_arn"]
                            .as_str()
                            .is_some_and(|arn| arn.split(':').any(|part| part == order_id))
                    }),
            );
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        let number = |line: &Value, field: &str| {
            line[field]
                .as_str()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_default()
        };
        lines.sort_by_key(|line| (number(line, "event_timestamp"), number(line, "id")));
        let runs = lines
            .iter()
            .filter_map(|line| line["execution_arn"].as_str())
            .collect::<std::collections::BTreeSet<_>>();
        let ended = lines
            .iter()
            .filter(|line| execution_outcome(line["type"].as_str().unwrap_or_default()).is_some())
            .count();
        if !runs.is_empty() && ended == runs.len() {
            return lines;
        }
        assert!(
            started.elapsed() < Duration::from_mins(2),
            "the saga of {order_id} never ended in its log: {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Checks the order's final status and reason, the SKU's available units and the payment's
/// status together.
pub async fn assert_settled(
    order: &Value,
    status: &str,
    reason: Option<&str>,
    sku: &str,
    units: i64,
    payment: Option<&str>,
) {
    assert_eq!(
        (order["status"].as_str(), order["reason"].as_str()),
        (Some(status), reason),
        "{order}"
    );
    assert_eq!(available(sku).await, units, "available units of {sku}");
    let id = order["order_id"].as_str().unwrap();
    assert_eq!(
        payment_status(id).await.as_deref(),
        payment,
        "payment of {id}"
    );
}
