//! CloudWatch's embedded metric format, read as CloudWatch Logs reads it from a function's
//! output: a JSON log line with an `_aws.CloudWatchMetrics` directive becomes one datum per
//! metric, value and dimension set (each set is a metric of its own), at `_aws.Timestamp`.

use serde_json::Value;

use super::store::{Datum, MetricKey};

/// The data of one log line; nothing when it is not an EMF record (or a malformed one, which
/// CloudWatch also drops, with no error to the function).
pub fn data(line: &str) -> Vec<Datum> {
    let Ok(record) = serde_json::from_str::<Value>(line) else {
        return Vec::new();
    };
    let Some(timestamp) = record["_aws"]["Timestamp"].as_i64() else {
        return Vec::new();
    };
    let mut data = Vec::new();
    for directive in record["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(namespace) = directive["Namespace"].as_str() else {
            continue;
        };
        let dimension_sets: Vec<Vec<&str>> = directive["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|set| {
                set.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect()
            })
            .collect();
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            let Some(name) = metric["Name"].as_str() else {
                continue;
            };
            let values: Vec<f64> = match &record[name] {
                Value::Array(values) => values.iter().filter_map(Value::as_f64).collect(),
                value => value.as_f64().into_iter().collect(),
            };
            for set in &dimension_sets {
                // A dimension whose value is missing or not a string makes CloudWatch reject the
                // whole set.
                let Some(dimensions) = set
                    .iter()
                    .map(|d| Some(((*d).to_owned(), record[*d].as_str()?.to_owned())))
                    .collect::<Option<_>>()
                else {
                    continue;
                };
                let key = MetricKey {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    dimensions,
                };
                for value in &values {
                    data.push(Datum {
                        key: key.clone(),
                        at_ms: timestamp,
                        value: *value,
                        unit: metric["Unit"].as_str().map(str::to_owned),
                    });
                }
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"Errors4xx":1.0,"Latency":[5.9,7.1],"Requests":1.0,"_aws":{"CloudWatchMetrics":[{"Dimensions":[["service"],["service","route"]],"Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"}],"Namespace":"Shop"}],"Timestamp":1795851781321},"correlation_id":"c-1","route":"POST /orders","service":"orders"}"#;

    #[test]
    fn each_metric_is_recorded_once_per_dimension_set_and_value() {
        let data = data(LINE);
        let requests: Vec<_> = data.iter().filter(|d| d.key.name == "Requests").collect();
        assert_eq!(requests.len(), 2);
        assert_eq!(
            requests[0].key,
            MetricKey::new("Shop", "Requests", &[("service", "orders")])
        );
        assert_eq!(
            requests[1].key,
            MetricKey::new(
                "Shop",
                "Requests",
                &[("service", "orders"), ("route", "POST /orders")]
            )
        );
        assert_eq!(requests[0].at_ms, 1_795_851_781_321);
        let latencies: Vec<f64> = data
            .iter()
            .filter(|d| d.key.name == "Latency" && d.key.dimensions.len() == 1)
            .map(|d| d.value)
            .collect();
        assert_eq!(latencies, [5.9, 7.1]);
        // Not declared in the directive: a property, not a metric.
        assert!(data.iter().all(|d| d.key.name != "Errors4xx"));
    }

    #[test]
    fn ordinary_log_lines_and_sets_missing_a_dimension_give_nothing() {
        assert!(data(r#"{"level":"INFO","message":"request completed"}"#).is_empty());
        assert!(data("not json").is_empty());
        let missing = r#"{"Requests":1,"_aws":{"CloudWatchMetrics":[{"Dimensions":[["service"]],"Metrics":[{"Name":"Requests"}],"Namespace":"Shop"}],"Timestamp":1}}"#;
        assert!(data(missing).is_empty());
    }
}
