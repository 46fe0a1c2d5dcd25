//! Load on a running stack: places N orders through the HTTP API and measures how long each
//! saga takes from `OrderPlaced` to its decision (`OrderConfirmed` or `OrderRejected`), read
//! from the event store's timestamps in the order's trail. The client only polls for the end
//! (every [`POLL`]): polling every 25 ms for the time was half of the stack's calls.
//!
//! Start the stack with `make run`, then: `make load ARGS="--orders 100 --concurrency 10"`.
//! It reads the API URL and the seeded users' tokens from `target/devstack/stack.json`, or from
//! the stack file `SHOP_STACK_FILE` names (as the system tests do).

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use serde_json::{Value, json};

/// How often each order in flight is asked for its status.
const POLL: Duration = Duration::from_millis(500);

/// One order's saga, as the event store recorded it and as the client saw it.
struct Settled {
    saga: Duration,
    seen: Duration,
    confirmed: bool,
}

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
    let (http, api, customer, body) = (&http, api.as_str(), customer.as_str(), &body);
    let mut results: Vec<(usize, Result<Settled, String>)> = stream::iter(0..settings.orders)
        .map(|n| async move { (n, place_and_settle(http, api, customer, body).await) })
        .buffer_unordered(settings.concurrency)
        .collect()
        .await;
    let elapsed = run_started.elapsed();
    // In the order they were placed, for the first and last tenth.
    results.sort_by_key(|(n, _)| *n);
    let results: Vec<Result<Settled, String>> = results.into_iter().map(|(_, r)| r).collect();
    report(&results, elapsed);
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    for failure in failures.iter().take(5) {
        println!("  failure: {failure}");
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len()).div_ceil(100);
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn sorted(latencies: impl Iterator<Item = Duration>) -> Vec<Duration> {
    let mut latencies: Vec<Duration> = latencies.collect();
    latencies.sort();
    latencies
}

/// Throughput, the sagas' latency percentiles, and the first tenth of the orders placed beside
/// the last (a stack that slows down as it runs shows here).
fn report(results: &[Result<Settled, String>], elapsed: Duration) {
    let settled: Vec<&Settled> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let confirmed = settled.iter().filter(|s| s.confirmed).count();
    let sagas = sorted(settled.iter().map(|s| s.saga));
    let seen = sorted(settled.iter().map(|s| s.seen));
    let count = f64::from(u32::try_from(settled.len()).unwrap_or(u32::MAX));
    println!(
        "{} sagas settled in {:.1} s: {:.1} orders/s; {} confirmed, {} failed to settle",
        settled.len(),
        elapsed.as_secs_f64(),
        count / elapsed.as_secs_f64(),
        confirmed,
        results.len() - settled.len()
    );
    println!(
        "saga (OrderPlaced to its decision, event store): p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        percentile(&sagas, 50),
        percentile(&sagas, 95),
        percentile(&sagas, 99)
    );
    println!(
        "seen by the client (POST /orders to a final status, polled every {} ms): p50 {:.0} ms, p95 {:.0} ms",
        POLL.as_millis(),
        percentile(&seen, 50),
        percentile(&seen, 95)
    );
    let tenth = (settled.len() / 10).max(1);
    if settled.len() >= 20 {
        let first = sorted(settled[..tenth].iter().map(|s| s.saga));
        let last = sorted(settled[settled.len() - tenth..].iter().map(|s| s.saga));
        println!(
            "steadiness: saga p50 of the first {tenth} orders placed {:.0} ms, of the last {tenth} {:.0} ms",
            percentile(&first, 50),
            percentile(&last, 50)
        );
    }
}

/// Places one order (retrying while orders' copy of the catalog has not yet heard of the new
/// product), polls it until the saga has decided, and reads the decision's time from the trail.
async fn place_and_settle(
    http: &reqwest::Client,
    api: &str,
    token: &str,
    body: &Value,
) -> Result<Settled, String> {
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
    let get = |path: String| async move {
        http.get(format!("{api}/orders/{path}"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json::<Value>()
            .await
            .map_err(|e| e.to_string())
    };
    loop {
        tokio::time::sleep(POLL).await;
        let order = get(id.clone()).await?;
        match order["status"].as_str() {
            Some("CONFIRMED" | "REJECTED" | "SHIPPED") => {
                let seen = started.elapsed();
                let trail = get(format!("{id}/events")).await?;
                let (saga, decision) =
                    saga_time(&trail).ok_or(format!("order {id}'s trail: {trail}"))?;
                return Ok(Settled {
                    saga,
                    seen,
                    confirmed: decision == "OrderConfirmed",
                });
            }
            _ if started.elapsed() > Duration::from_mins(1) => {
                return Err(format!("order {id} did not settle"));
            }
            _ => {}
        }
    }
}

/// From `OrderPlaced` to `OrderConfirmed` or `OrderRejected` (which one it was), by the event
/// store's clock.
fn saga_time(trail: &Value) -> Option<(Duration, String)> {
    let at = |types: &[&str]| {
        trail.as_array()?.iter().find_map(|event| {
            let event_type = event["type"].as_str()?;
            let at = time::OffsetDateTime::parse(
                event["occurred_at"].as_str()?,
                &time::format_description::well_known::Rfc3339,
            )
            .ok()?;
            types
                .contains(&event_type)
                .then(|| (at, event_type.to_owned()))
        })
    };
    let (placed, _) = at(&["OrderPlaced"])?;
    let (decided, decision) = at(&["OrderConfirmed", "OrderRejected"])?;
    Some(((decided - placed).try_into().ok()?, decision))
}
