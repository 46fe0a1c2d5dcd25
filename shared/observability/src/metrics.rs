//! CloudWatch metrics in the embedded metric format (EMF): a JSON log line that CloudWatch
//! Logs turns into metrics, so recording one costs no API call and no latency.
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric the shop emits.
pub const NAMESPACE: &str = "Shop";

static DISABLED: AtomicBool = AtomicBool::new(false);

/// Stops this process from emitting metrics, for benchmarks that would otherwise print a
/// metrics line per iteration.
pub fn disable() {
    DISABLED.store(true, Ordering::Relaxed);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    /// No unit CloudWatch knows, for amounts such as money in cents.
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
        }
    }
}

/// One EMF document: a set of dimensions and the values recorded under them.
#[derive(Debug, Clone)]
pub struct Metrics {
    dimensions: Vec<(String, String)>,
    values: Vec<(String, Value, Unit)>,
    properties: Map<String, Value>,
}

impl Metrics {
    /// Metrics of one service (the `service` dimension).
    pub fn new(service: &str) -> Self {
        Self {
            dimensions: vec![(crate::metric_names::SERVICE.to_owned(), service.to_owned())],
            values: Vec::new(),
            properties: Map::new(),
        }
    }

    /// Adds a dimension. Keep values low-cardinality (a route template, never an id).
    #[must_use]
    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A searchable field on the log line that is not a dimension (ids belong here).
    #[must_use]
    pub fn property(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    #[must_use]
    pub fn count(self, name: &str, value: u32) -> Self {
        self.value(name, json!(f64::from(value)), Unit::Count)
    }

    #[must_use]
    pub fn millis(self, name: &str, value: f64) -> Self {
        self.value(name, json!(value), Unit::Milliseconds)
    }

    /// An amount without a unit, such as money in cents. It stays an integer in the document:
    /// CloudWatch reads any JSON number, and an order's total can exceed what a `u32` holds.
    #[must_use]
    pub fn amount(self, name: &str, value: i64) -> Self {
        self.value(name, Value::from(value), Unit::None)
    }

    fn value(mut self, name: &str, value: Value, unit: Unit) -> Self {
        self.values.push((name.to_owned(), value, unit));
        self
    }

    /// The EMF document, stamped with the given time in epoch milliseconds.
    pub fn to_json(&self, timestamp_ms: i64) -> Value {
        let mut doc = self.properties.clone();
        // Every prefix of the dimensions is its own set, so a metric can be read (and
        // alarmed on) per service as well as per service and route.
        let names: Vec<&str> = self.dimensions.iter().map(|(n, _)| n.as_str()).collect();
        let dimension_sets: Vec<&[&str]> = (1..=names.len()).map(|n| &names[..n]).collect();
        let definitions: Vec<Value> = self
            .values
            .iter()
            .map(|(name, _, unit)| json!({ "Name": name, "Unit": unit.as_str() }))
            .collect();
        for (name, value) in &self.dimensions {
            doc.insert(name.clone(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.values {
            doc.insert(name.clone(), value.clone());
        }
        doc.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": dimension_sets,
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(doc)
    }

    /// Writes the document as one line on stdout, where the Lambda log agent picks it up.
    /// It bypasses `tracing` on purpose: EMF must be the whole line, not a field of one. On a
    /// thread whose metrics a test captures ([`crate::capture::CapturedMetrics`]), the
    /// document goes to the capture instead.
    pub fn emit(&self) {
        if self.values.is_empty() || DISABLED.load(Ordering::Relaxed) {
            return;
        }
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let document = self.to_json(now_ms);
        if let Some(document) = crate::capture::offer(document) {
            println!("{document}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_declares_every_value_per_service_and_per_route() {
        let doc = Metrics::new("catalog")
            .dimension("route", "GET /products")
            .property("correlation_id", "c-1")
            .count("Requests", 1)
            .millis("Latency", 12.5)
            .to_json(1_700_000_000_000);

        assert_eq!(doc["service"], "catalog");
        assert_eq!(doc["route"], "GET /products");
        assert_eq!(doc["Requests"], 1.0);
        assert_eq!(doc["Latency"], 12.5);
        assert_eq!(doc["correlation_id"], "c-1");
        let declared = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        assert_eq!(
            declared["Dimensions"],
            json!([["service"], ["service", "route"]])
        );
        assert_eq!(
            declared["Metrics"],
            json!([{"Name": "Requests", "Unit": "Count"}, {"Name": "Latency", "Unit": "Milliseconds"}])
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    }

    #[test]
    fn an_amount_is_written_as_the_integer_it_is_without_a_unit() {
        // 2^53 + 1 cents has no exact f64: written as a float it would lose the last cent.
        let cents = 9_007_199_254_740_993_i64;
        let doc = Metrics::new("orders")
            .dimension("currency", "EUR")
            .amount("Revenue", cents)
            .to_json(0);

        assert_eq!(doc["Revenue"].as_i64(), Some(cents));
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "Revenue", "Unit": "None"}])
        );
    }
}
