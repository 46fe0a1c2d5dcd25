//! CloudWatch metrics, dashboards and alarms on devstack.
//!
//! On AWS, CloudWatch Logs turns the functions' EMF lines into metrics, and Lambda, API
//! Gateway, SQS and Step Functions publish their own. moto does neither, and never evaluates
//! an alarm. devstack does all of it: [`emf`] reads the functions' output, the runtime pieces
//! (function pools, the gateway, pollers of queues and executions) record the AWS-namespace
//! metrics those services would, and everything lands in one [`store`], which also forwards
//! each datum to moto's CloudWatch (PutMetricData) so CloudWatch's own API lists them.

pub mod alarms;
pub mod coverage;
pub mod dashboards;
pub mod emf;
pub mod math;
pub mod pollers;
pub mod store;
pub mod watch;

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use tokio::sync::mpsc;

pub use store::{Datum, MetricKey, MetricStore, Stat, Window};
pub use watch::{AlarmStates, Watch};

use self::{alarms::AlarmSpec, dashboards::Dashboard};

/// The shortest period devstack reads metrics in, once AWS's period is divided by the time
/// scale: a per-minute alarm or chart would otherwise decide or draw on one second of data,
/// shorter than the pollers' interval.
pub const SHORTEST_PERIOD_MS: i64 = 10_000;

/// A period of AWS's, as devstack reads it.
pub fn local_period_ms(period_seconds: u64, time_scale: u32) -> i64 {
    (i64::try_from(period_seconds).unwrap_or(300) * 1000 / i64::from(time_scale.max(1)))
        .max(SHORTEST_PERIOD_MS)
}

/// Milliseconds since the epoch, the metrics' clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Where metrics are recorded, and the alarms and dashboards drawn from them; cheap to clone.
#[derive(Debug, Clone)]
pub struct Monitoring {
    pub store: MetricStore,
    forward: Option<mpsc::UnboundedSender<Datum>>,
    pub alarms: Arc<Vec<AlarmSpec>>,
    pub alarm_states: AlarmStates,
    pub dashboards: Arc<Vec<Dashboard>>,
    /// Alarm and dashboard periods are divided by this, like AWS's other waits.
    pub time_scale: u32,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            store: MetricStore::default(),
            forward: None,
            alarms: Arc::default(),
            alarm_states: AlarmStates::default(),
            dashboards: Arc::default(),
            time_scale: 1,
        }
    }
}

impl Monitoring {
    /// Starts keeping metrics: every datum is also forwarded to the emulator's CloudWatch, and
    /// `watch`'s alarms are evaluated once a second, notifying their SNS actions there.
    pub fn start(emulator: &str, time_scale: u32, watch: Watch, store: MetricStore) -> Self {
        let emulator = emulator.trim_end_matches('/').to_owned();
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(forward(receiver, emulator.clone()));
        let monitoring = Self {
            store,
            forward: Some(sender),
            alarms: Arc::new(watch.alarms),
            alarm_states: AlarmStates::default(),
            dashboards: Arc::new(watch.dashboards),
            time_scale,
        };
        tokio::spawn(watch::evaluate(monitoring.clone(), emulator));
        monitoring
    }

    /// The dashboard page named `name`, drawn now.
    pub fn dashboard_page(&self, name: &str) -> Option<String> {
        let dashboard = self.dashboards.iter().find(|d| d.name == name)?;
        let states = self.alarm_states.snapshot();
        let alarm_names: Vec<(String, String)> = self
            .alarms
            .iter()
            .map(|a| (a.arn.clone(), a.name.clone()))
            .collect();
        Some(dashboards::page(
            dashboard,
            &dashboards::Sources {
                store: &self.store,
                alarms: &states,
                alarm_names: &alarm_names,
                time_scale: self.time_scale,
                now_ms: now_ms(),
            },
        ))
    }

    /// Every alarm's state and why, as JSON.
    pub fn alarms_json(&self) -> serde_json::Value {
        let states = self.alarm_states.snapshot();
        self.alarms
            .iter()
            .map(|alarm| {
                let (state, reason) = states
                    .get(&alarm.name)
                    .map_or(("INSUFFICIENT_DATA", ""), |(s, r)| (s.name(), r.as_str()));
                (
                    alarm.name.clone(),
                    serde_json::json!({"state": state, "reason": reason}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    pub fn record(&self, datum: Datum) {
        if let Some(forward) = &self.forward {
            let _ = forward.send(datum.clone());
        }
        self.store.record(datum);
    }

    /// One value now.
    pub fn put(&self, key: MetricKey, value: f64, unit: &str) {
        self.record(Datum {
            key,
            at_ms: now_ms(),
            value,
            unit: Some(unit.to_owned()),
        });
    }

    /// A line a function printed: EMF records become metrics, as CloudWatch Logs makes them.
    pub fn observe_log_line(&self, line: &str) {
        if line.contains("\"_aws\"") {
            for datum in emf::data(line) {
                self.record(datum);
            }
        }
    }

    /// What Lambda publishes per invocation (namespace `AWS/Lambda`, per `FunctionName`).
    /// Lambda reports `Errors` and `Throttles` as 0 for invocations without them, so graphs
    /// and alarms see data, not gaps.
    pub fn lambda_invocation(
        &self,
        function: &str,
        duration_ms: f64,
        failed: bool,
        concurrent: usize,
    ) {
        let key = |name: &str| MetricKey::new("AWS/Lambda", name, &[("FunctionName", function)]);
        self.put(key("Invocations"), 1.0, "Count");
        self.put(key("Errors"), f64::from(u8::from(failed)), "Count");
        self.put(key("Throttles"), 0.0, "Count");
        self.put(key("Duration"), duration_ms, "Milliseconds");
        self.put(
            key("ConcurrentExecutions"),
            store::float(concurrent),
            "Count",
        );
    }

    /// What API Gateway publishes per request of an HTTP API (namespace `AWS/ApiGateway`, per
    /// `ApiId`), including the requests it answers itself (401, 404, 413).
    pub fn api_request(
        &self,
        api_id: &str,
        status: u16,
        latency_ms: f64,
        integration_ms: Option<f64>,
    ) {
        let key = |name: &str| MetricKey::new("AWS/ApiGateway", name, &[("ApiId", api_id)]);
        self.put(key("Count"), 1.0, "Count");
        self.put(
            key("4xx"),
            f64::from(u8::from((400..500).contains(&status))),
            "Count",
        );
        self.put(key("5xx"), f64::from(u8::from(status >= 500)), "Count");
        self.put(key("Latency"), latency_ms, "Milliseconds");
        if let Some(integration_ms) = integration_ms {
            self.put(key("IntegrationLatency"), integration_ms, "Milliseconds");
        }
    }
}

/// How long the forwarder gathers data before it sends them on.
const FORWARD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Statistic sets per `PutMetricData` call. moto's query parser scans every form field for each
/// field it reads, so one call's cost grows with the square of its size.
const SETS_PER_CALL: usize = 50;

/// Sends data to the emulator's CloudWatch as statistic sets (PutMetricData, query protocol):
/// one per metric, unit and minute for what arrived in the last [`FORWARD_EVERY`]. CloudWatch
/// keeps standard-resolution metrics per minute, so ListMetrics and GetMetricStatistics (periods
/// of a minute or more) answer as they would for the single values. Sending every value instead
/// made moto parse and keep thousands of them a second under load: most of its time and memory.
async fn forward(mut receiver: mpsc::UnboundedReceiver<Datum>, emulator: String) {
    let client = reqwest::Client::new();
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, 100_000).await > 0 {
        for (namespace, sets) in statistic_sets(batch.drain(..)) {
            for chunk in sets.chunks(SETS_PER_CALL) {
                let form = put_metric_data_form(&namespace, chunk);
                let _ = client
                    .post(&emulator)
                    .header("authorization", crate::emulator::scope_header("monitoring"))
                    .form(&form)
                    .send()
                    .await;
            }
        }
        tokio::time::sleep(FORWARD_EVERY).await;
    }
}

/// A metric's values in one minute, as `PutMetricData`'s `StatisticValues` carries them.
#[derive(Debug, Clone, PartialEq)]
struct StatisticSet {
    key: MetricKey,
    unit: Option<String>,
    minute_ms: i64,
    samples: u32,
    sum: f64,
    min: f64,
    max: f64,
}

/// The data folded into one set per metric, unit and minute, grouped by namespace.
fn statistic_sets(
    data: impl Iterator<Item = Datum>,
) -> std::collections::BTreeMap<String, Vec<StatisticSet>> {
    let mut sets =
        std::collections::BTreeMap::<(MetricKey, Option<String>, i64), StatisticSet>::new();
    for datum in data {
        let minute_ms = datum.at_ms - datum.at_ms.rem_euclid(60_000);
        sets.entry((datum.key.clone(), datum.unit.clone(), minute_ms))
            .and_modify(|set| {
                set.samples += 1;
                set.sum += datum.value;
                set.min = set.min.min(datum.value);
                set.max = set.max.max(datum.value);
            })
            .or_insert_with(|| StatisticSet {
                key: datum.key,
                unit: datum.unit,
                minute_ms,
                samples: 1,
                sum: datum.value,
                min: datum.value,
                max: datum.value,
            });
    }
    let mut by_namespace = std::collections::BTreeMap::<String, Vec<StatisticSet>>::new();
    for set in sets.into_values() {
        by_namespace
            .entry(set.key.namespace.clone())
            .or_default()
            .push(set);
    }
    by_namespace
}

fn put_metric_data_form(namespace: &str, sets: &[StatisticSet]) -> Vec<(String, String)> {
    let mut form = vec![
        ("Action".to_owned(), "PutMetricData".to_owned()),
        ("Version".to_owned(), "2010-08-01".to_owned()),
        ("Namespace".to_owned(), namespace.to_owned()),
    ];
    for (i, set) in sets.iter().enumerate() {
        let member = format!("MetricData.member.{}", i + 1);
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(set.minute_ms) * 1_000_000)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
        form.push((format!("{member}.MetricName"), set.key.name.clone()));
        form.push((format!("{member}.Timestamp"), at));
        let statistics = format!("{member}.StatisticValues");
        form.push((format!("{statistics}.SampleCount"), set.samples.to_string()));
        form.push((format!("{statistics}.Sum"), set.sum.to_string()));
        form.push((format!("{statistics}.Minimum"), set.min.to_string()));
        form.push((format!("{statistics}.Maximum"), set.max.to_string()));
        if let Some(unit) = &set.unit {
            form.push((format!("{member}.Unit"), unit.clone()));
        }
        for (j, (name, value)) in set.key.dimensions.iter().enumerate() {
            let dimension = format!("{member}.Dimensions.member.{}", j + 1);
            form.push((format!("{dimension}.Name"), name.clone()));
            form.push((format!("{dimension}.Value"), value.clone()));
        }
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(name: &str, at_ms: i64, value: f64, unit: &str) -> Datum {
        Datum {
            key: MetricKey::new("AWS/Lambda", name, &[("FunctionName", "f")]),
            at_ms,
            value,
            unit: Some(unit.to_owned()),
        }
    }

    #[test]
    fn values_of_one_metric_unit_and_minute_become_one_statistic_set() {
        // 2027-01-15T08:00:00Z, the start of a minute.
        let minute = 1_800_000_000_000;
        let sets = statistic_sets(
            [
                datum("Duration", minute + 1_000, 4.0, "Milliseconds"),
                datum("Duration", minute + 59_999, 10.0, "Milliseconds"),
                datum("Duration", minute + 2_000, 1.0, "Milliseconds"),
                datum("Duration", minute + 60_000, 7.0, "Milliseconds"),
                datum("Duration", minute + 3_000, 2.0, "Seconds"),
                datum("Invocations", minute + 3_000, 1.0, "Count"),
            ]
            .into_iter(),
        );
        let lambda = &sets["AWS/Lambda"];
        let summary: Vec<_> = lambda
            .iter()
            .map(|s| {
                (
                    s.key.name.as_str(),
                    s.unit.as_deref().unwrap_or_default(),
                    s.minute_ms - minute,
                    s.samples,
                    s.sum,
                    s.min,
                    s.max,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("Duration", "Milliseconds", 0, 3, 15.0, 1.0, 10.0),
                ("Duration", "Milliseconds", 60_000, 1, 7.0, 7.0, 7.0),
                ("Duration", "Seconds", 0, 1, 2.0, 2.0, 2.0),
                ("Invocations", "Count", 0, 1, 1.0, 1.0, 1.0),
            ]
        );
    }

    #[test]
    fn a_statistic_set_is_sent_with_its_minute_unit_and_dimensions() {
        let sets = statistic_sets(
            [
                datum("Duration", 1_800_000_030_000, 4.0, "Milliseconds"),
                datum("Duration", 1_800_000_040_000, 6.0, "Milliseconds"),
            ]
            .into_iter(),
        );
        let form: std::collections::HashMap<_, _> =
            put_metric_data_form("AWS/Lambda", &sets["AWS/Lambda"])
                .into_iter()
                .collect();
        let field = |name: &str| form[&format!("MetricData.member.1.{name}")].as_str();
        assert_eq!(form["Namespace"], "AWS/Lambda");
        assert_eq!(field("MetricName"), "Duration");
        assert_eq!(field("Timestamp"), "2027-01-15T08:00:00Z");
        assert_eq!(field("StatisticValues.SampleCount"), "2");
        assert_eq!(field("StatisticValues.Sum"), "10");
        assert_eq!(field("StatisticValues.Minimum"), "4");
        assert_eq!(field("StatisticValues.Maximum"), "6");
        assert_eq!(field("Unit"), "Milliseconds");
        assert_eq!(field("Dimensions.member.1.Name"), "FunctionName");
        assert_eq!(field("Dimensions.member.1.Value"), "f");
        assert!(!form.contains_key("MetricData.member.2.MetricName"));
    }
}
