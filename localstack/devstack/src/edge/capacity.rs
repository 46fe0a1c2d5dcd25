//! DynamoDB's consumed capacity, as CloudWatch shows it per table
//! (`ConsumedReadCapacityUnits`, `ConsumedWriteCapacityUnits`). DynamoDB publishes these
//! itself; moto does not, but answers `ReturnConsumedCapacity` with its own count. So the edge
//! asks for it on every item call that passes, records what moto answers, and hands the caller
//! the answer it asked for (without the figures when it did not ask).

use bytes::Bytes;
use serde_json::Value;

use crate::monitoring::{MetricKey, Monitoring};

const READS: &[&str] = &[
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];
const WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// A call whose consumed capacity is recorded.
#[derive(Debug, Clone, Copy)]
pub struct Metered {
    metric: &'static str,
    /// The caller did not ask for the figures; they are taken out of the answer.
    asked_by_devstack: bool,
}

/// The request to send instead, and what to record from its answer.
pub fn meter(target: Option<&str>, body: Bytes) -> (Bytes, Option<Metered>) {
    let Some(operation) = target.and_then(|t| t.strip_prefix("DynamoDB_20120810.")) else {
        return (body, None);
    };
    let metric = if READS.contains(&operation) {
        "ConsumedReadCapacityUnits"
    } else if WRITES.contains(&operation) {
        "ConsumedWriteCapacityUnits"
    } else {
        return (body, None);
    };
    let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(&body) else {
        return (body, None);
    };
    let asked = request
        .get("ReturnConsumedCapacity")
        .and_then(Value::as_str)
        .is_some_and(|mode| mode != "NONE");
    let body = if asked {
        body
    } else {
        request.insert("ReturnConsumedCapacity".to_owned(), Value::from("TOTAL"));
        serde_json::to_vec(&request).map_or(body, Bytes::from)
    };
    (
        body,
        Some(Metered {
            metric,
            asked_by_devstack: !asked,
        }),
    )
}

/// Records the answer's consumed capacity per table; returns the answer the caller expects.
pub fn record(metered: Metered, answer: Bytes, monitoring: &Monitoring) -> Bytes {
    let Ok(Value::Object(mut response)) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    let consumed = if metered.asked_by_devstack {
        response.remove("ConsumedCapacity")
    } else {
        response.get("ConsumedCapacity").cloned()
    };
    let entries = match consumed {
        Some(Value::Array(entries)) => entries,
        Some(entry @ Value::Object(_)) => vec![entry],
        _ => Vec::new(),
    };
    for entry in entries {
        let (Some(table), Some(units)) =
            (entry["TableName"].as_str(), entry["CapacityUnits"].as_f64())
        else {
            continue;
        };
        monitoring.put(
            MetricKey::new("AWS/DynamoDB", metered.metric, &[("TableName", table)]),
            units,
            "Count",
        );
    }
    if metered.asked_by_devstack {
        serde_json::to_vec(&response).map_or(answer, Bytes::from)
    } else {
        answer
    }
}

#[cfg(test)]
mod tests {
    use crate::monitoring::{Stat, Window, now_ms};

    use super::*;

    #[test]
    fn capacity_is_asked_for_recorded_and_taken_out_when_the_caller_did_not_ask() {
        let (request, metered) = meter(
            Some("DynamoDB_20120810.PutItem"),
            Bytes::from_static(br#"{"TableName":"Orders","Item":{}}"#),
        );
        let request: Value = serde_json::from_slice(&request).unwrap();
        assert_eq!(request["ReturnConsumedCapacity"], "TOTAL");
        let monitoring = Monitoring::default();
        let answer = record(
            metered.unwrap(),
            Bytes::from_static(
                br#"{"ConsumedCapacity":{"TableName":"Orders","CapacityUnits":1.0}}"#,
            ),
            &monitoring,
        );
        assert_eq!(&answer[..], b"{}");
        let key = MetricKey::new(
            "AWS/DynamoDB",
            "ConsumedWriteCapacityUnits",
            &[("TableName", "Orders")],
        );
        let window = Window::last(1, 60_000, now_ms());
        assert_eq!(monitoring.store.read(&key, Stat::Sum, window), [Some(1.0)]);
    }

    #[test]
    fn a_caller_that_asked_keeps_the_figures_and_other_calls_pass_untouched() {
        let body =
            Bytes::from_static(br#"{"TableName":"Orders","ReturnConsumedCapacity":"INDEXES"}"#);
        let (request, metered) = meter(Some("DynamoDB_20120810.Query"), body.clone());
        assert_eq!(request, body);
        let answer = Bytes::from_static(
            br#"{"ConsumedCapacity":{"TableName":"Orders","CapacityUnits":0.5},"Items":[]}"#,
        );
        assert_eq!(
            record(metered.unwrap(), answer.clone(), &Monitoring::default()),
            answer
        );
        let describe = Bytes::from_static(br#"{"TableName":"Orders"}"#);
        assert!(
            meter(Some("DynamoDB_20120810.DescribeTable"), describe)
                .1
                .is_none()
        );
    }
}
