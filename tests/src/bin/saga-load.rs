//! Load on a running stack: places N orders through the HTTP API and measures how long each
//! saga takes from `POST /orders` to a final status (CONFIRMED or REJECTED).
//!
//! Start the stack with `make run`, then: `make load ARGS="--orders 100 --concurrency 10"`.
//! It reads the API URL and the seeded users' tokens from `target/devstack/stack.json`, or from
//! the stack file `SHOP_STACK_FILE` names (as the system tests do).

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use serde_json::{Value, json};

struct Settings {
    orders: usize,
    concurrency: usize,
}

fn settings() -> Result<Settings, String> {
    let mut settings = Settings {
        orders: 50,
        concurrency: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or(format!("{arg} needs a number"))?;
        match arg.as_str() {
            "--orders" => settings.orders = value,
            "--concurrency" => settings.concurrency = value,
            other => {
                return Err(format!(
                    "unknown argument {other}; use --orders N --concurrency N"
                ));
            }
        }
    }
    Ok(settings)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = settings()?;
    let state_file = std::env::var_os("SHOP_STACK_FILE").map_or_else(
        || system_tests::workspace().join("target/devstack/stack.json"),
        std::path::PathBuf::from,
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).map_err(|e| {
            format!(
                "{}: {e} (start the stack with `make run` first)",
                state_file.display()
            )
        })?)?;
    let api = state["api_url"]
        .as_str()
        .ok_or("stack.json has no api_url")?
        .to_owned();
    let admin = state["admin"]["access_token"]
        .as_str()
        .ok_or("no admin token")?
        .to_owned();
    let customer = state["customer"]["access_token"]
        .as_str()
        .ok_or("no customer token")?
        .to_owned();
    let http = reqwest::Client::new();

    // One product with stock for every order.
    let sku = format!("LOAD-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let product: Value = http
        .post(format!("{api}/products"))
        .bearer_auth(&admin)
        .json(&json!({"sku": sku, "name": "Load test item", "price_cents": 500, "currency": "EUR"}))
        .send()
        .await?
        .json()
        .await?;
    let product_id = product["id"]
        .as_str()
        .ok_or(format!("product not created: {product}"))?
        .to_owned();
    http.put(format!("{api}/inventory/{sku}"))
        .bearer_auth(&admin)
        .json(&json!({"on_hand": settings.orders}))
        .send()
        .await?
        .error_for_status()?;
    let body = json!({
        "items": [{"product_id": product_id, "quantity": 1}],
        "payment": {"card_token": "tok_visa"},
        "shipping_address": {"name": "Load", "line1": "1 Main St", "postal_code": "10115", "city": "Berlin", "country": "DE"}
    });
    println!(
        "placing {} orders, {} at a time, against {api}",
        settings.orders, settings.concurrency
    );
    let run_started = Instant::now();
    let results: Vec<Result<(Duration, String), String>> = stream::iter(0..settings.orders)
        .map(|_| place_and_settle(&http, &api, &customer, &body))
        .buffer_unordered(settings.concurrency)
        .collect()
        .await;
    let elapsed = run_started.elapsed();

    let mut latencies: Vec<Duration> = Vec::new();
    let mut confirmed = 0;
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok((latency, status)) => {
                confirmed += usize::from(status == "CONFIRMED");
                latencies.push(latency);
            }
            Err(error) => failures.push(error),
        }
    }
    latencies.sort();
    let percentile = |p: usize| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = (p * latencies.len()).div_ceil(100);
        latencies[rank.clamp(1, latencies.len()) - 1].as_secs_f64() * 1000.0
    };
    let settled = f64::from(u32::try_from(latencies.len()).unwrap_or(u32::MAX));
    println!(
        "{} sagas settled in {:.1} s: {:.1} orders/s; {} confirmed, {} failed to settle",
        latencies.len(),
        elapsed.as_secs_f64(),
        settled / elapsed.as_secs_f64(),
        confirmed,
        failures.len()
    );
    println!(
        "saga completion (POST /orders to final status): p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        percentile(50),
        percentile(95),
        percentile(99)
    );
    for failure in failures.iter().take(5) {
        println!("  failure: {failure}");
    }
    Ok(())
}

/// Places one order (retrying while orders' copy of the catalog has not yet heard of the new
/// product) and polls it until the saga has decided; returns the time that took.
async fn place_and_settle(
    http: &reqwest::Client,
    api: &str,
    token: &str,
    body: &Value,
) -> Result<(Duration, String), String> {
    let started = Instant::now();
    let placed: Value = loop {
        let response = http
            .post(format!("{api}/orders"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let reply: Value = response.json().await.map_err(|e| e.to_string())?;
        if status == 202 {
            break reply;
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("POST /orders answered {status}: {reply}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = placed["order_id"].as_str().ok_or("no order id")?.to_owned();
    loop {
        let order: Value = http
            .get(format!("{api}/orders/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match order["status"].as_str() {
            Some(status @ ("CONFIRMED" | "REJECTED" | "SHIPPED")) => {
                return Ok((started.elapsed(), status.to_owned()));
            }
            _ if started.elapsed() > Duration::from_mins(1) => {
                return Err(format!("order {id} did not settle"));
            }
            _ => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}
