//! CloudWatch's `GetMetricData`, answered from the metrics devstack keeps.
//!
//! Every datum is also put into moto, but moto answers a percentile statistic (`p99`) with a
//! 500, which is what dashboards and alarms here ask for most. So the edge answers
//! `GetMetricData` itself, for every statistic, in the protocols the AWS CLI and SDKs speak:
//! Smithy RPC v2 CBOR (the AWS CLI's choice) and JSON. Periods are AWS's, unscaled: this is
//! the API, not the local dashboards.

use std::collections::BTreeMap;

use ciborium::Value as Cbor;
use serde_json::{Value, json};

use crate::monitoring::{
    MetricKey, Monitoring, Stat, Window,
    math::{self, Inputs},
};

const CBOR_PATH: &str = "/service/GraniteServiceVersion20100801/operation/GetMetricData";
const JSON_TARGET: &str = "GraniteServiceVersion20100801.GetMetricData";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Cbor,
    Json,
}

/// The protocol of a `GetMetricData` call, if the request is one.
pub fn get_metric_data(path: &str, target: Option<&str>) -> Option<Protocol> {
    if path == CBOR_PATH {
        Some(Protocol::Cbor)
    } else if target == Some(JSON_TARGET) {
        Some(Protocol::Json)
    } else {
        None
    }
}

/// The answer's body, or why the request cannot be read (a `ValidationError`).
pub fn answer(protocol: Protocol, body: &[u8], monitoring: &Monitoring) -> Result<Vec<u8>, String> {
    let request = match protocol {
        Protocol::Cbor => {
            let cbor: Cbor = ciborium::from_reader(body).map_err(|e| format!("not CBOR: {e}"))?;
            json_of(cbor)
        }
        Protocol::Json => serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?,
    };
    let results = results(&request, monitoring)?;
    let answer = json!({"MetricDataResults": results, "Messages": []});
    Ok(match protocol {
        Protocol::Cbor => {
            let mut out = Vec::new();
            ciborium::into_writer(&cbor_of(&answer, false), &mut out).map_err(|e| e.to_string())?;
            out
        }
        Protocol::Json => answer.to_string().into_bytes(),
    })
}

/// An error answer in the call's protocol (`__type` and `message`, as both carry it).
pub fn error(protocol: Protocol, message: &str) -> Vec<u8> {
    let error = json!({"__type": "InvalidParameterValue", "message": message});
    match protocol {
        Protocol::Cbor => {
            let mut out = Vec::new();
            let _ = ciborium::into_writer(&cbor_of(&error, false), &mut out);
            out
        }
        Protocol::Json => error.to_string().into_bytes(),
    }
}

/// A CBOR value as JSON; a timestamp (tag 1) becomes its epoch seconds.
fn json_of(value: Cbor) -> Value {
    match value {
        Cbor::Integer(n) => i64::try_from(i128::from(n)).map_or(Value::Null, Value::from),
        Cbor::Float(f) => json!(f),
        Cbor::Text(text) => Value::String(text),
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Array(items) => Value::Array(items.into_iter().map(json_of).collect()),
        Cbor::Map(entries) => Value::Object(
            entries
                .into_iter()
                .filter_map(|(k, v)| Some((k.into_text().ok()?, json_of(v))))
                .collect(),
        ),
        Cbor::Tag(_, inner) => json_of(*inner),
        _ => Value::Null,
    }
}

/// JSON as CBOR; under `Timestamps`, numbers are epoch-seconds timestamps (tag 1).
fn cbor_of(value: &Value, timestamps: bool) -> Cbor {
    match value {
        Value::Number(n) if timestamps => {
            Cbor::Tag(1, Box::new(Cbor::Integer(n.as_i64().unwrap_or(0).into())))
        }
        Value::Number(n) => n.as_i64().map_or_else(
            || Cbor::Float(n.as_f64().unwrap_or(0.0)),
            |i| Cbor::Integer(i.into()),
        ),
        Value::String(text) => Cbor::Text(text.clone()),
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Array(items) => Cbor::Array(items.iter().map(|v| cbor_of(v, timestamps)).collect()),
        Value::Object(map) => Cbor::Map(
            map.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), cbor_of(v, k == "Timestamps")))
                .collect(),
        ),
        Value::Null => Cbor::Null,
    }
}

fn seconds_ms(value: &Value) -> Option<i64> {
    let seconds = value.as_f64()?;
    // Epoch seconds fit in an i64 many times over; the cast keeps the millisecond part.
    format!("{:.0}", seconds * 1000.0).parse().ok()
}

/// The result of each returned query, newest period first (AWS's default order).
fn results(request: &Value, monitoring: &Monitoring) -> Result<Vec<Value>, String> {
    let start = seconds_ms(&request["StartTime"]).ok_or("StartTime is required")?;
    let end = seconds_ms(&request["EndTime"]).ok_or("EndTime is required")?;
    let queries = request["MetricDataQueries"]
        .as_array()
        .ok_or("MetricDataQueries is required")?;
    let period_ms = queries
        .iter()
        .find_map(|q| q["MetricStat"]["Period"].as_i64())
        .unwrap_or(60)
        .max(1)
        * 1000;
    let window = Window {
        start_ms: start - start.rem_euclid(period_ms),
        end_ms: end,
        period_ms,
    };
    let mut inputs = Inputs {
        periods: window.periods(),
        ..Inputs::default()
    };
    let mut labels = BTreeMap::new();
    for query in queries {
        let id = query["Id"].as_str().ok_or("a query without Id")?;
        let metric_stat = &query["MetricStat"];
        if metric_stat.is_null() {
            continue;
        }
        let metric = &metric_stat["Metric"];
        let key = MetricKey {
            namespace: metric["Namespace"].as_str().unwrap_or_default().to_owned(),
            name: metric["MetricName"].as_str().unwrap_or_default().to_owned(),
            dimensions: metric["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| {
                    Some((
                        d["Name"].as_str()?.to_owned(),
                        d["Value"].as_str()?.to_owned(),
                    ))
                })
                .collect(),
        };
        let statistic = metric_stat["Stat"].as_str().unwrap_or_default();
        let statistic =
            Stat::parse(statistic).ok_or(format!("{id}: unknown statistic {statistic}"))?;
        labels.insert(id.to_owned(), key.name.clone());
        inputs.insert(id, monitoring.store.read(&key, statistic, window));
    }
    let mut results = Vec::new();
    for query in queries {
        let id = query["Id"].as_str().unwrap_or_default();
        let series = match query["Expression"].as_str() {
            Some(expression) => {
                let series = math::evaluate(expression, &inputs)?;
                inputs.by_id.insert(id.to_owned(), series.clone());
                series
            }
            None => inputs.by_id.get(id).cloned().unwrap_or_default(),
        };
        if query["ReturnData"] == false {
            continue;
        }
        let mut timestamps = Vec::new();
        let mut values = Vec::new();
        for (i, value) in series.iter().enumerate().rev() {
            if let Some(value) = value {
                let at = window.start_ms + window.period_ms * i64::try_from(i).unwrap_or(0);
                timestamps.push(json!(at / 1000));
                values.push(json!(value));
            }
        }
        let label = query["Label"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| labels.get(id).cloned())
            .unwrap_or_else(|| id.to_owned());
        results.push(json!({
            "Id": id, "Label": label, "Timestamps": timestamps, "Values": values, "StatusCode": "Complete"
        }));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::{Datum, now_ms};

    #[test]
    fn a_percentile_is_answered_in_cbor_from_the_kept_values() {
        let monitoring = Monitoring::default();
        let key = MetricKey::new("Shop", "Latency", &[("service", "orders")]);
        let now = now_ms();
        for value in 1..=100 {
            monitoring.store.record(Datum {
                key: key.clone(),
                at_ms: now - 1_000,
                value: f64::from(value),
                unit: None,
            });
        }
        let seconds = |ms: i64| Cbor::Tag(1, Box::new(Cbor::Integer((ms / 1000).into())));
        let text = |s: &str| Cbor::Text(s.to_owned());
        let request = Cbor::Map(vec![
            (text("StartTime"), seconds(now - 600_000)),
            (text("EndTime"), seconds(now + 60_000)),
            (
                text("MetricDataQueries"),
                Cbor::Array(vec![Cbor::Map(vec![
                    (text("Id"), text("p99")),
                    (
                        text("MetricStat"),
                        Cbor::Map(vec![
                            (
                                text("Metric"),
                                Cbor::Map(vec![
                                    (text("Namespace"), text("Shop")),
                                    (text("MetricName"), text("Latency")),
                                    (
                                        text("Dimensions"),
                                        Cbor::Array(vec![Cbor::Map(vec![
                                            (text("Name"), text("service")),
                                            (text("Value"), text("orders")),
                                        ])]),
                                    ),
                                ]),
                            ),
                            (text("Period"), Cbor::Integer(60.into())),
                            (text("Stat"), text("p99")),
                        ]),
                    ),
                ])]),
            ),
        ]);
        let mut body = Vec::new();
        ciborium::into_writer(&request, &mut body).unwrap();
        let answer = answer(Protocol::Cbor, &body, &monitoring).unwrap();
        let answer = json_of(ciborium::from_reader(answer.as_slice()).unwrap());
        let result = &answer["MetricDataResults"][0];
        assert_eq!(result["Id"], "p99");
        assert_eq!(result["Values"], json!([99.0]));
        assert_eq!(result["Timestamps"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn only_get_metric_data_is_answered_here() {
        assert_eq!(get_metric_data(CBOR_PATH, None), Some(Protocol::Cbor));
        assert_eq!(
            get_metric_data("/", Some(JSON_TARGET)),
            Some(Protocol::Json)
        );
        assert_eq!(
            get_metric_data("/", Some("GraniteServiceVersion20100801.ListMetrics")),
            None
        );
    }
}
