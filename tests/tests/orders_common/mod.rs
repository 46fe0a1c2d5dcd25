//! Helpers of the orders system tests: products created through the catalog, customers
//! through auth, and orders through the HTTP API.

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
    let mut request = reqwest::Client::new()
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
    let client = reqwest::Client::new();
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
