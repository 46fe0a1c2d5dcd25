//! One measured run for the cost model: a devstack of its own (the template alone, without the
//! system tests' fixture, whose recorder functions would take events too), seeded, warmed up
//! with a few orders, then `orders` orders placed through the API and settled (shipped), with
//! devstack's counters read before and after. The canary's runs in that window are taken out:
//! one run is measured on its own afterwards and priced as a fixed monthly cost instead.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use devstack::{
    provision::CognitoClient,
    seed,
    stack::{Options, Stack},
    template::{Properties, ResourceKind, Template},
};
use futures::{StreamExt, stream};
use serde_json::{Value, json};

use super::{Fixed, FunctionUse, Usage, Workflow};

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct Settings {
    pub orders: usize,
    pub concurrency: usize,
    pub workflow: Workflow,
    /// Function logs and the counters go under here, one folder per workflow type.
    pub out_dir: PathBuf,
    /// Build the functions first (`make cost` has built them).
    pub build: bool,
}

/// A run's result: what the orders used, one canary run, and the monthly fixed inventory.
#[derive(Debug, Clone)]
pub struct Measured {
    pub usage: Usage,
    pub canary: Usage,
    pub fixed: Fixed,
    /// The counters the usage came from (devstack's metrics and counters, differences).
    pub counters: Value,
}

/// Orders warmed up with before measuring: every function has an instance by then.
const WARM_UP_ORDERS: usize = 3;
/// The canary's rule fires once a minute.
const CANARY_RUNS_A_MONTH: f64 = 60.0 * 24.0 * 30.0;

pub async fn run(workspace: &Path, settings: &Settings) -> Result<Measured, String> {
    let template_path = workspace.join("infra/template.yaml");
    let template = Template::load(std::slice::from_ref(&template_path)).map_err(text)?;
    let mut options = Options::new(workspace);
    options.echo_logs = false;
    options.build = settings.build;
    options.log_dir = settings.out_dir.join("logs");
    options.parameters.insert(
        "SagaWorkflowType".to_owned(),
        settings.workflow.parameter().to_owned(),
    );
    let stack = Stack::start(options, |step| eprintln!("cost: {step}"))
        .await
        .map_err(text)?;
    let result = measure(&stack, &template, settings).await;
    stack.stop().await;
    result
}

async fn measure(
    stack: &Stack,
    template: &Template,
    settings: &Settings,
) -> Result<Measured, String> {
    let endpoints = &stack.endpoints;
    let emulator = emulator_config(&endpoints.emulator_url).await;
    let seeded = seed::seed(endpoints, &CognitoClient::new(&emulator))
        .await
        .map_err(text)?;
    let shop = Shop {
        http: reqwest::Client::new(),
        api: endpoints.api_url.clone(),
        customer: seeded.customer.access_token.clone(),
    };
    let product = shop
        .stocked_product(&seeded.admin.access_token, settings.orders + WARM_UP_ORDERS)
        .await?;
    let reader = Reader {
        http: reqwest::Client::new(),
        edge: endpoints.edge_url.clone(),
        log_dir: stack.logs.dir().to_path_buf(),
        dynamodb: aws_sdk_dynamodb::Client::new(&emulator),
        logs: aws_sdk_cloudwatchlogs::Client::new(&emulator),
        stack_name: stack.stack_name.clone(),
    };
    eprintln!("cost: warming up with {WARM_UP_ORDERS} orders …");
    let warm_up = shop.place_all(&product, WARM_UP_ORDERS, 1).await?;
    reader.shipped(0.0, WARM_UP_ORDERS).await?;
    reader.quiet().await?;
    shop.verify_shipped(&warm_up).await?;
    reader.quiet().await?;
    let before = reader.snapshot().await?;
    eprintln!(
        "cost: placing {} orders, {} at a time ({}) …",
        settings.orders,
        settings.concurrency,
        settings.workflow.parameter()
    );
    let order_ids = shop
        .place_all(&product, settings.orders, settings.concurrency)
        .await?;
    reader.shipped(before.shipments(), settings.orders).await?;
    reader.quiet().await?;
    let after = reader.snapshot().await?;
    eprintln!("cost: waiting for the canary's next run, to measure one on its own …");
    let canary_runs = after.scheduled_runs() - before.scheduled_runs();
    reader.next_scheduled_run(after.scheduled_runs()).await?;
    reader.quiet().await?;
    let after_canary = reader.snapshot().await?;
    // Read back only now, outside every window: a customer's reads are not part of placing
    // an order, nor of the canary's run.
    shop.verify_shipped(&order_ids).await?;
    let canary_delta = after_canary.minus(&after, 1.0);
    let load_delta = after.minus(&before, 1.0).less(&canary_delta, canary_runs);
    let model = Model::new(template, &stack.stack_name)?;
    let mut usage = model.usage(&load_delta, to_f64(order_ids.len()));
    reader.saga_log(&order_ids, &mut usage).await?;
    reader
        .event_log(before.at_ms, after.at_ms, &mut usage)
        .await?;
    usage.stored_bytes = after.stored_bytes - before.stored_bytes;
    let canary = model.usage(&canary_delta, 1.0);
    Ok(Measured {
        fixed: model.fixed(&after),
        usage,
        canary,
        counters: json!({
            "orders": order_ids.len(),
            "canary_runs_taken_out": canary_runs,
            "load": load_delta.to_json(),
            "one_canary_run": canary_delta.to_json(),
        }),
    })
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// A count as a float (counts here stay far below 2^32).
pub fn to_f64(count: usize) -> f64 {
    f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}

async fn emulator_config(endpoint: &str) -> aws_config::SdkConfig {
    shop_aws::loader()
        .region(aws_config::Region::new(devstack::REGION))
        .endpoint_url(endpoint)
        .test_credentials()
        .load()
        .await
}

/// The shop's HTTP API, as a customer places orders.
struct Shop {
    http: reqwest::Client,
    api: String,
    customer: String,
}

impl Shop {
    /// A product with `units` in stock; its id.
    async fn stocked_product(&self, admin: &str, units: usize) -> Result<String, String> {
        let sku =
            format!("COST-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
        let product: Value = self
            .http
            .post(format!("{}/products", self.api))
            .bearer_auth(admin)
            .json(&json!({"sku": sku, "name": "Cost run item", "price_cents": 500, "currency": "EUR"}))
            .send()
            .await
            .map_err(text)?
            .json()
            .await
            .map_err(text)?;
        let id = product["id"]
            .as_str()
            .ok_or(format!("product not created: {product}"))?
            .to_owned();
        self.http
            .put(format!("{}/inventory/{sku}", self.api))
            .bearer_auth(admin)
            .json(&json!({"on_hand": units}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(text)?;
        Ok(id)
    }

    /// Places `count` orders of one unit, `concurrency` requests at a time; their ids. Only
    /// `POST /orders`: the rest of an order's way is the system's, and polling its status
    /// through the API would bill reads no customer makes.
    async fn place_all(
        &self,
        product: &str,
        count: usize,
        concurrency: usize,
    ) -> Result<Vec<String>, String> {
        let body = json!({
            "items": [{"product_id": product, "quantity": 1}],
            "payment": {"card_token": "tok_visa"},
            "shipping_address": {"name": "Cost", "line1": "1 Main St", "postal_code": "10115", "city": "Berlin", "country": "DE"}
        });
        stream::iter(0..count)
            .map(|_| self.place(&body))
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    async fn place(&self, body: &Value) -> Result<String, String> {
        let started = Instant::now();
        loop {
            let reply = self
                .http
                .post(format!("{}/orders", self.api))
                .bearer_auth(&self.customer)
                .json(body)
                .send()
                .await
                .map_err(text)?;
            let status = reply.status();
            let placed: Value = reply.json().await.map_err(text)?;
            if status == 202 {
                return Ok(placed["order_id"].as_str().unwrap_or_default().to_owned());
            }
            // Orders' copy of the catalog may not have heard of the new product yet.
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("POST /orders answered {status}: {placed}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every order in `ids` has shipped, as its view says within a minute (a run that
    /// rejected one measured something else).
    async fn verify_shipped(&self, ids: &[String]) -> Result<(), String> {
        let started = Instant::now();
        for id in ids {
            loop {
                let order: Value = self
                    .http
                    .get(format!("{}/orders/{id}", self.api))
                    .bearer_auth(&self.customer)
                    .send()
                    .await
                    .map_err(text)?
                    .json()
                    .await
                    .map_err(text)?;
                if order["status"] == "SHIPPED" {
                    break;
                }
                if started.elapsed() > Duration::from_mins(1) {
                    return Err(format!("order {id} did not ship: {order}"));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        Ok(())
    }
}

/// A metric: namespace, name and dimensions.
type Key = (String, String, BTreeMap<String, String>);

/// devstack's counts at one moment.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    at_ms: i64,
    /// Each metric's sum and sample count.
    metrics: BTreeMap<Key, (f64, f64)>,
    /// devstack's counters: (counter, scope) → count.
    counters: BTreeMap<(String, String), f64>,
    /// Each function's log: bytes and lines.
    logs: BTreeMap<String, (f64, f64)>,
    stored_bytes: f64,
}

impl Snapshot {
    fn scheduled_runs(&self) -> f64 {
        self.counters
            .iter()
            .filter(|((counter, _), _)| counter == "ScheduledRun")
            .map(|(_, count)| count)
            .sum()
    }

    /// Shipments scheduled so far (shipping's business metric).
    fn shipments(&self) -> f64 {
        self.metric_all("Shop", "ShipmentsScheduled")
            .iter()
            .map(|(_, sum, _)| sum)
            .sum()
    }

    fn counter(&self, counter: &str, scope: &str) -> f64 {
        self.counters
            .get(&(counter.to_owned(), scope.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    fn metric_sum(&self, namespace: &str, name: &str, dimension: (&str, &str)) -> f64 {
        self.metrics
            .iter()
            .filter(|((ns, n, dims), _)| {
                ns == namespace
                    && n == name
                    && dims.get(dimension.0).is_some_and(|v| v == dimension.1)
            })
            .map(|(_, (sum, _))| sum)
            .sum()
    }

    /// Every series of `namespace`/`name`, whatever its dimensions: (sum, samples).
    fn metric_all(
        &self,
        namespace: &str,
        name: &str,
    ) -> Vec<(&BTreeMap<String, String>, f64, f64)> {
        self.metrics
            .iter()
            .filter(|((ns, n, _), _)| ns == namespace && n == name)
            .map(|((_, _, dims), (sum, samples))| (dims, *sum, *samples))
            .collect()
    }

    /// `self - other × times`, per key (the difference of two snapshots, or one less some
    /// runs of another difference).
    fn minus(&self, other: &Self, times: f64) -> Self {
        fn each<K: Ord + Clone>(
            a: &BTreeMap<K, (f64, f64)>,
            b: &BTreeMap<K, (f64, f64)>,
            times: f64,
        ) -> BTreeMap<K, (f64, f64)> {
            a.iter()
                .map(|(k, (x, y))| {
                    let (bx, by) = b.get(k).copied().unwrap_or_default();
                    (
                        k.clone(),
                        ((x - bx * times).max(0.0), (y - by * times).max(0.0)),
                    )
                })
                .collect()
        }
        Self {
            at_ms: self.at_ms - other.at_ms,
            metrics: each(&self.metrics, &other.metrics, times),
            counters: self
                .counters
                .iter()
                .map(|(k, v)| {
                    let b = other.counters.get(k).copied().unwrap_or_default();
                    (k.clone(), (v - b * times).max(0.0))
                })
                .collect(),
            logs: each(&self.logs, &other.logs, times),
            stored_bytes: self.stored_bytes - other.stored_bytes * times,
        }
    }

    /// A difference less `runs` of another (the canary's runs inside the load's window).
    fn less(&self, one_run: &Self, runs: f64) -> Self {
        let mut out = self.minus(one_run, runs);
        out.at_ms = self.at_ms;
        out
    }

    fn to_json(&self) -> Value {
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .filter(|(_, (sum, samples))| *sum != 0.0 || *samples != 0.0)
            .map(|((ns, name, dims), (sum, samples))| {
                json!({"namespace": ns, "name": name, "dimensions": dims, "sum": sum, "samples": samples})
            })
            .collect();
        let counters: Vec<Value> = self
            .counters
            .iter()
            .filter(|(_, v)| **v != 0.0)
            .map(|((c, s), v)| json!({"counter": c, "scope": s, "count": v}))
            .collect();
        let logs: Value = self
            .logs
            .iter()
            .map(|(f, (bytes, lines))| (f.clone(), json!({"bytes": bytes, "lines": lines})))
            .collect::<serde_json::Map<_, _>>()
            .into();
        json!({"metrics": metrics, "counters": counters, "function_logs": logs})
    }
}

/// Reads devstack's counters, its function logs and, from the emulator, the tables and the
/// log groups.
struct Reader {
    http: reqwest::Client,
    edge: String,
    log_dir: PathBuf,
    dynamodb: aws_sdk_dynamodb::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    stack_name: String,
}

impl Reader {
    async fn edge_json(&self, path: &str) -> Result<Value, String> {
        self.http
            .get(format!("{}{path}", self.edge))
            .send()
            .await
            .map_err(text)?
            .json()
            .await
            .map_err(text)
    }

    async fn snapshot(&self) -> Result<Snapshot, String> {
        let mut snapshot = Snapshot {
            at_ms: devstack::monitoring::now_ms(),
            ..Snapshot::default()
        };
        let metrics = self.edge_json("/_devstack/metrics").await?;
        for metric in metrics["metrics"].as_array().into_iter().flatten() {
            let dims: BTreeMap<String, String> =
                serde_json::from_value(metric["dimensions"].clone()).unwrap_or_default();
            let key = (
                metric["namespace"].as_str().unwrap_or_default().to_owned(),
                metric["name"].as_str().unwrap_or_default().to_owned(),
                dims,
            );
            snapshot.metrics.insert(
                key,
                (
                    metric["sum"].as_f64().unwrap_or_default(),
                    metric["samples"].as_f64().unwrap_or_default(),
                ),
            );
        }
        let counters = self.edge_json("/_devstack/counters").await?;
        for (counter, scopes) in counters.as_object().into_iter().flatten() {
            for (scope, count) in scopes.as_object().into_iter().flatten() {
                snapshot.counters.insert(
                    (counter.clone(), scope.clone()),
                    count.as_f64().unwrap_or_default(),
                );
            }
        }
        snapshot.logs = function_logs(&self.log_dir);
        snapshot.stored_bytes = self.stored_bytes().await?;
        Ok(snapshot)
    }

    /// Waits until no function has been invoked for three seconds.
    async fn quiet(&self) -> Result<(), String> {
        let mut last = -1.0;
        let mut still_since = Instant::now();
        let started = Instant::now();
        loop {
            let metrics = self
                .edge_json("/_devstack/metrics?namespace=AWS/Lambda")
                .await?;
            let invocations: f64 = metrics["metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["name"] == "Invocations")
                .filter_map(|m| m["samples"].as_f64())
                .sum();
            if (invocations - last).abs() > f64::EPSILON {
                last = invocations;
                still_since = Instant::now();
            } else if still_since.elapsed() >= Duration::from_secs(3) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_mins(5) {
                return Err("the stack never came to rest".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until shipping has scheduled `count` shipments more than `baseline`: the last
    /// step of an order's way (OrderShipped and its projection follow within the quiet wait).
    async fn shipped(&self, baseline: f64, count: usize) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let metrics = self.edge_json("/_devstack/metrics?namespace=Shop").await?;
            let scheduled: f64 = metrics["metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["name"] == "ShipmentsScheduled")
                .filter_map(|m| m["sum"].as_f64())
                .sum();
            if scheduled - baseline >= to_f64(count) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_mins(10) {
                return Err(format!(
                    "{} of {count} orders shipped within ten minutes",
                    scheduled - baseline
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits for the scheduled rules to have run more than `runs` times in all.
    async fn next_scheduled_run(&self, runs: f64) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let counters = self.edge_json("/_devstack/counters").await?;
            let now: f64 = counters["ScheduledRun"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, v)| v.as_f64())
                .sum();
            if now > runs {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(75) {
                return Err("the canary did not run within 75 s".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Every item's size in every table of the stack, added up (DynamoDB's item size rules).
    async fn stored_bytes(&self) -> Result<f64, String> {
        let tables = self.dynamodb.list_tables().send().await.map_err(text)?;
        let mut bytes = 0.0;
        for table in tables.table_names() {
            let mut pages = self
                .dynamodb
                .scan()
                .table_name(table)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for item in page.map_err(text)?.items() {
                    bytes += devstack::edge::item_size(&attribute_json(item));
                }
            }
        }
        Ok(bytes)
    }

    /// Fills in the saga's counts from its execution log: executions, state transitions (each
    /// state entered, and each retry of its task), task states, and the log's size.
    async fn saga_log(&self, order_ids: &[String], usage: &mut Usage) -> Result<(), String> {
        let group = format!("/aws/vendedlogs/states/{}-place-order", self.stack_name);
        let ids: BTreeSet<&str> = order_ids.iter().map(String::as_str).collect();
        let (lines, bytes) = self
            .log_lines(&group, None, |line| {
                line["execution_arn"]
                    .as_str()
                    .is_some_and(|arn| arn.split(':').any(|part| ids.contains(part)))
            })
            .await?;
        let mut executions = BTreeSet::new();
        let (mut entered, mut tasks, mut scheduled) = (0.0_f64, 0.0_f64, 0.0_f64);
        for line in &lines {
            executions.insert(
                line["execution_arn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
            let kind = line["type"].as_str().unwrap_or_default();
            if kind.ends_with("StateEntered") {
                entered += 1.0;
            }
            if kind == "TaskStateEntered" {
                tasks += 1.0;
            }
            if kind == "TaskScheduled" {
                scheduled += 1.0;
            }
        }
        usage.executions = to_f64(executions.len());
        // A task scheduled again after its state was entered is a retry: a transition of its own.
        usage.state_transitions = entered + (scheduled - tasks).max(0.0);
        usage.task_states = tasks;
        usage.execution_log_lines = to_f64(lines.len());
        usage.execution_log_bytes = bytes;
        Ok(())
    }

    /// Fills in the bus's event log between two moments (each event as EventBridge put it).
    async fn event_log(&self, from_ms: i64, to_ms: i64, usage: &mut Usage) -> Result<(), String> {
        let group = format!("/aws/events/{}", self.stack_name);
        let (lines, bytes) = self
            .log_lines(&group, Some((from_ms, to_ms)), |_| true)
            .await?;
        usage.event_log_lines = to_f64(lines.len());
        usage.event_log_bytes = bytes;
        // The archive stores each event as the bus delivers it, as the event log does.
        usage.event_bytes = bytes;
        Ok(())
    }

    /// The JSON lines of a log group that `keep` keeps, and their bytes.
    async fn log_lines(
        &self,
        group: &str,
        window: Option<(i64, i64)>,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<(Vec<Value>, f64), String> {
        let mut lines = Vec::new();
        let mut bytes = 0.0;
        let mut next_token = None;
        loop {
            let page = self
                .logs
                .filter_log_events()
                .log_group_name(group)
                .set_start_time(window.map(|w| w.0))
                .set_end_time(window.map(|w| w.1))
                .set_next_token(next_token)
                .send()
                .await
                .map_err(text)?;
            for event in page.events() {
                let message = event.message().unwrap_or_default();
                let Ok(line) = serde_json::from_str::<Value>(message) else {
                    continue;
                };
                if keep(&line) {
                    bytes += to_f64(message.len());
                    lines.push(line);
                }
            }
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok((lines, bytes));
            }
        }
    }
}

/// Each function's log file (`<logical id>.log`): bytes and lines.
fn function_logs(dir: &Path) -> BTreeMap<String, (f64, f64)> {
    let mut logs = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Some(function) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".log"))
        else {
            continue;
        };
        let Ok(content) = std::fs::read(&path) else {
            continue;
        };
        let lines = content.split(|b| *b == b'\n').count().saturating_sub(1);
        logs.insert(function.to_owned(), (to_f64(content.len()), to_f64(lines)));
    }
    logs
}

/// An item as the JSON protocol writes it, from the SDK's attribute values.
fn attribute_json(item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Value {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn value(v: &A) -> Value {
        match v {
            A::S(s) => json!({"S": s}),
            A::N(n) => json!({"N": n}),
            A::B(b) => json!({"B": "x".repeat(b.as_ref().len() * 4 / 3)}),
            A::Bool(b) => json!({"BOOL": b}),
            A::Null(_) => json!({"NULL": true}),
            A::Ss(s) => json!({"SS": s}),
            A::Ns(n) => json!({"NS": n}),
            A::L(l) => json!({"L": l.iter().map(value).collect::<Vec<_>>()}),
            A::M(m) => {
                json!({"M": m.iter().map(|(k, v)| (k.clone(), value(v))).collect::<serde_json::Map<_, _>>()})
            }
            _ => json!({}),
        }
    }
    Value::Object(item.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

/// What the template says about the functions, tables and monitoring, for turning counts into
/// a [`Usage`] and a [`Fixed`].
struct Model {
    stack_name: String,
    /// (logical id, memory) of every function.
    functions: Vec<(String, u32)>,
    /// Functions the saga's tasks call.
    saga_tasks: BTreeSet<String>,
    /// Global secondary indexes per table (physical name).
    indexes: BTreeMap<String, f64>,
    access_log_bytes: f64,
    dashboards: f64,
    alarm_metrics: f64,
    composite_alarms: f64,
    kms_keys: f64,
}

impl Model {
    fn new(template: &Template, stack_name: &str) -> Result<Self, String> {
        let functions = template
            .functions()
            .map_err(text)?
            .into_iter()
            .map(|f| (f.logical_id, f.memory_mb))
            .collect();
        let saga_tasks = template
            .state_machines()
            .map_err(text)?
            .iter()
            .flat_map(|m| m.substitutions.values())
            .filter_map(|v| v["Fn::GetAtt"][0].as_str().map(str::to_owned))
            .collect();
        let mut model = Self {
            stack_name: stack_name.to_owned(),
            functions,
            saga_tasks,
            indexes: BTreeMap::new(),
            access_log_bytes: 0.0,
            dashboards: 0.0,
            alarm_metrics: 0.0,
            composite_alarms: 0.0,
            kms_keys: 0.0,
        };
        for resource in &template.resources {
            model.read(resource);
        }
        Ok(model)
    }

    fn read(&mut self, resource: &devstack::template::Resource) {
        match (&resource.kind, &resource.properties) {
            (_, Properties::Table(table)) => {
                // Tables are named `<stack>-<logical id>` locally.
                self.indexes.insert(
                    format!("{}-{}", self.stack_name, resource.logical_id),
                    to_f64(table.global_secondary_indexes.len()),
                );
            }
            (_, Properties::HttpApi(api)) => {
                let format = api
                    .access_log_settings
                    .as_ref()
                    .and_then(|s| s["Format"].as_str())
                    .unwrap_or_default();
                self.access_log_bytes = access_log_line(format);
            }
            (ResourceKind::Dashboard, _) => self.dashboards += 1.0,
            (ResourceKind::CompositeAlarm, _) => self.composite_alarms += 1.0,
            (ResourceKind::KmsKey, _) => self.kms_keys += 1.0,
            (ResourceKind::Alarm, Properties::NotEmulated(alarm)) => {
                // A metric-math alarm bills each metric it reads; a plain one its one metric.
                self.alarm_metrics += alarm["Metrics"].as_array().map_or(1.0, |metrics| {
                    to_f64(
                        metrics
                            .iter()
                            .filter(|m| m.get("MetricStat").is_some())
                            .count(),
                    )
                });
            }
            _ => {}
        }
    }

    fn usage(&self, delta: &Snapshot, orders: f64) -> Usage {
        let sum_all = |ns: &str, name: &str| -> f64 {
            delta
                .metric_all(ns, name)
                .iter()
                .map(|(_, sum, _)| sum)
                .sum()
        };
        let functions = self
            .functions
            .iter()
            .map(|(id, memory_mb)| {
                let name = format!("{}-{id}", self.stack_name);
                let (log_bytes, log_lines) = delta.logs.get(id).copied().unwrap_or_default();
                FunctionUse {
                    function: id.clone(),
                    memory_mb: *memory_mb,
                    invocations: delta.metric_sum(
                        "AWS/Lambda",
                        "Invocations",
                        ("FunctionName", &name),
                    ),
                    aws_calls: delta.counter("AwsCallBy", id),
                    log_bytes,
                    log_lines,
                    saga_task: self.saga_tasks.contains(id),
                }
            })
            .filter(|f| f.invocations > 0.0)
            .collect();
        // Each write to a table with global secondary indexes writes each index too.
        let index_writes: f64 = delta
            .metric_all("AWS/DynamoDB", "ConsumedWriteCapacityUnits")
            .iter()
            .map(|(dims, _, samples)| {
                let table = dims
                    .get("TableName")
                    .map(String::as_str)
                    .unwrap_or_default();
                samples * self.indexes.get(table).copied().unwrap_or_default()
            })
            .sum();
        let kms_requests = delta
            .counters
            .iter()
            .filter(|((counter, scope), _)| {
                counter == "AwsCall" && scope.starts_with("TrentService.")
            })
            .map(|(_, count)| count)
            .sum();
        Usage {
            orders,
            api_requests: sum_all("AWS/ApiGateway", "Count"),
            functions,
            read_units: sum_all("AWS/DynamoDB", "ConsumedReadCapacityUnits"),
            write_units: sum_all("AWS/DynamoDB", "ConsumedWriteCapacityUnits") + index_writes,
            events_put: delta
                .metric_all("Shop", "EventsPublished")
                .iter()
                .map(|(_, sum, _)| sum)
                .sum(),
            kms_requests,
            access_log_bytes_per_request: self.access_log_bytes,
            ..Usage::default()
        }
    }

    fn fixed(&self, snapshot: &Snapshot) -> Fixed {
        let custom: BTreeSet<&Key> = snapshot
            .metrics
            .keys()
            .filter(|(ns, _, _)| !ns.starts_with("AWS/"))
            .collect();
        Fixed {
            dashboards: self.dashboards,
            alarm_metrics: self.alarm_metrics,
            composite_alarms: self.composite_alarms,
            custom_metrics: to_f64(custom.len()),
            kms_keys: self.kms_keys,
            canary_runs: CANARY_RUNS_A_MONTH,
            canary_run: Vec::new(),
        }
    }
}

/// The size of one access-log line: the template's format with each `$context` variable
/// replaced by a typical value of API Gateway's.
fn access_log_line(format: &str) -> f64 {
    const TYPICAL: &[(&str, &str)] = &[
        ("$context.requestId", "Ot2CbhDmIAMEb3w="),
        ("$context.identity.sourceIp", "203.0.113.10"),
        ("$context.requestTime", "28/Nov/2026:10:15:42 +0000"),
        ("$context.routeKey", "GET /orders/{order_id}"),
        ("$context.status", "200"),
        ("$context.responseLength", "412"),
        ("$context.integrationErrorMessage", "-"),
        ("$context.authorizer.error", "-"),
        ("$context.responseLatency", "48"),
    ];
    let mut line = format.to_owned();
    // Longest names first, so no variable's name is cut by a shorter one's.
    let mut typical = TYPICAL.to_vec();
    typical.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in typical {
        line = line.replace(name, value);
    }
    to_f64(line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_log_line_is_the_format_with_typical_values() {
        let format = r#"{"requestId":"$context.requestId","status":$context.status}"#;
        assert!((access_log_line(format) - 45.0).abs() < f64::EPSILON);
    }

    #[test]
    fn a_window_less_the_canary_runs_in_it_keeps_what_the_orders_used() {
        let key = |name: &str| ("AWS/Lambda".to_owned(), name.to_owned(), BTreeMap::new());
        let snapshot = |invocations: f64, runs: f64| Snapshot {
            metrics: BTreeMap::from([(key("Invocations"), (invocations, invocations))]),
            counters: BTreeMap::from([(("ScheduledRun".to_owned(), "Canary".to_owned()), runs)]),
            ..Snapshot::default()
        };
        let (before, after, after_canary) = (
            snapshot(10.0, 1.0),
            snapshot(60.0, 3.0),
            snapshot(67.0, 4.0),
        );
        let canary = after_canary.minus(&after, 1.0);
        let runs = after.scheduled_runs() - before.scheduled_runs();
        let load = after.minus(&before, 1.0).less(&canary, runs);
        assert_eq!(load.metrics[&key("Invocations")], (36.0, 36.0));
    }
}
