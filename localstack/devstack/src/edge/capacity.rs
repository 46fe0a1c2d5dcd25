//! DynamoDB's consumed capacity, as CloudWatch shows it per table
//! (`ConsumedReadCapacityUnits`, `ConsumedWriteCapacityUnits`), and as an on-demand table bills
//! it (read and write request units). DynamoDB publishes these itself; moto does not, and its
//! own `ReturnConsumedCapacity` figures are placeholders (1 per call whatever the size, nothing
//! for `UpdateItem` or a transaction). So the edge counts every item call that passes by
//! DynamoDB's rules, from the request and, for reads, the items in the answer:
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html>
//! - a write costs 1 unit per KB of the item written (rounded up); an `UpdateItem` or
//!   `DeleteItem` is counted as an item of up to 1 KB, since the stored item's size is not in
//!   the call;
//! - a read costs 1 unit per 4 KB read (the items returned, added up per call for `Query` and
//!   `Scan`), half of it when eventually consistent, and at least that once per call;
//! - each item of a transaction costs twice as much.
//!
//! Writes a global secondary index takes on are not counted here (the edge does not know a
//! table's indexes); `make cost` adds them from the template.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Map, Value};

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

const WRITE_UNIT: f64 = 1024.0;
const READ_UNIT: f64 = 4096.0;

/// A call whose consumed capacity is recorded.
#[derive(Debug, Clone)]
pub enum Metered {
    /// Write units per table, known from the request.
    Writes(BTreeMap<String, f64>),
    /// Read units, known once the answer's items are.
    Read(ReadCall),
}

#[derive(Debug, Clone)]
pub struct ReadCall {
    operation: String,
    /// The table of a single-table read (`GetItem`, `Query`, `Scan`).
    table: String,
    /// A single-table read's consistency (per table for `BatchGetItem`).
    consistent: bool,
    /// `BatchGetItem`'s consistency per table.
    consistent_by_table: BTreeMap<String, bool>,
    /// `TransactGetItems`' table per item, in the answer's order.
    transact_tables: Vec<String>,
}

/// The request to send (unchanged), and what to record from its answer.
pub fn meter(target: Option<&str>, body: Bytes) -> (Bytes, Option<Metered>) {
    let Some(operation) = target.and_then(|t| t.strip_prefix("DynamoDB_20120810.")) else {
        return (body, None);
    };
    if !READS.contains(&operation) && !WRITES.contains(&operation) {
        return (body, None);
    }
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
        return (body, None);
    };
    let metered = if WRITES.contains(&operation) {
        Metered::Writes(write_units(operation, &request))
    } else {
        Metered::Read(read_call(operation, &request))
    };
    (body, Some(metered))
}

/// Records the call's units per table; hands back the answer as it came.
pub fn record(metered: Metered, answer: Bytes, monitoring: &Monitoring) -> Bytes {
    let units = match metered {
        Metered::Writes(units) => units,
        Metered::Read(call) => match serde_json::from_slice::<Value>(&answer) {
            Ok(Value::Object(response)) => read_units(&call, &response),
            _ => BTreeMap::new(),
        },
    };
    for (key, units) in units {
        let (table, metric) = match key.strip_prefix(READ_MARK) {
            Some(table) => (table, "ConsumedReadCapacityUnits"),
            None => (key.as_str(), "ConsumedWriteCapacityUnits"),
        };
        monitoring.put(
            MetricKey::new("AWS/DynamoDB", metric, &[("TableName", table)]),
            units,
            "Count",
        );
    }
    answer
}

/// Read units are keyed `READ_MARK + table` so one map carries both kinds.
const READ_MARK: &str = "\u{0}read:";

fn text<'a>(request: &'a Map<String, Value>, field: &str) -> &'a str {
    request
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn write_units(operation: &str, request: &Map<String, Value>) -> BTreeMap<String, f64> {
    let mut units = BTreeMap::new();
    let mut add = |table: &str, value: f64| *units.entry(table.to_owned()).or_insert(0.0) += value;
    match operation {
        "PutItem" => add(text(request, "TableName"), write_cost(request.get("Item"))),
        "UpdateItem" | "DeleteItem" => add(text(request, "TableName"), 1.0),
        "BatchWriteItem" => {
            for (table, writes) in request
                .get("RequestItems")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for write in writes.as_array().into_iter().flatten() {
                    add(
                        table,
                        write_cost(write.get("PutRequest").map(|p| &p["Item"])),
                    );
                }
            }
        }
        _ => {
            for item in request
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some((_, action)) = item.as_object().and_then(|i| i.iter().next()) else {
                    continue;
                };
                add(
                    action["TableName"].as_str().unwrap_or_default(),
                    2.0 * write_cost(action.get("Item")),
                );
            }
        }
    }
    units
}

/// A write of `item` (1 KB when the call does not carry the item).
fn write_cost(item: Option<&Value>) -> f64 {
    item.map_or(1.0, |item| (item_size(item) / WRITE_UNIT).ceil().max(1.0))
}

fn read_call(operation: &str, request: &Map<String, Value>) -> ReadCall {
    let consistent = |value: &Value| value["ConsistentRead"].as_bool().unwrap_or(false);
    ReadCall {
        operation: operation.to_owned(),
        table: text(request, "TableName").to_owned(),
        consistent: request
            .get("ConsistentRead")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        consistent_by_table: request
            .get("RequestItems")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(table, keys)| (table.clone(), consistent(keys)))
            .collect(),
        transact_tables: request
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|item| {
                item["Get"]["TableName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect(),
    }
}

/// Units for reading `bytes` in one go: per 4 KB, half when eventually consistent.
fn read_cost(bytes: f64, consistent: bool) -> f64 {
    let units = (bytes / READ_UNIT).ceil().max(1.0);
    if consistent { units } else { units / 2.0 }
}

fn read_units(call: &ReadCall, response: &Map<String, Value>) -> BTreeMap<String, f64> {
    let mut units = BTreeMap::new();
    let mut add = |table: &str, value: f64| {
        *units.entry(format!("{READ_MARK}{table}")).or_insert(0.0) += value;
    };
    match call.operation.as_str() {
        "GetItem" => add(
            &call.table,
            read_cost(response.get("Item").map_or(0.0, item_size), call.consistent),
        ),
        "Query" | "Scan" => {
            let bytes = response
                .get("Items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(item_size)
                .sum();
            add(&call.table, read_cost(bytes, call.consistent));
        }
        "BatchGetItem" => {
            for (table, items) in response
                .get("Responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let consistent = call
                    .consistent_by_table
                    .get(table)
                    .copied()
                    .unwrap_or(false);
                for item in items.as_array().into_iter().flatten() {
                    add(table, read_cost(item_size(item), consistent));
                }
            }
        }
        _ => {
            let items = response.get("Responses").and_then(Value::as_array);
            for (index, table) in call.transact_tables.iter().enumerate() {
                let item = items.and_then(|items| items.get(index)).map(|r| &r["Item"]);
                add(table, 2.0 * read_cost(item.map_or(0.0, item_size), true));
            }
        }
    }
    units
}

/// An item's size as DynamoDB counts it (`{"name": {"S": "value"}, ...}`, as the JSON
/// protocol writes items): each attribute's name and value. Storage is billed by it too.
pub fn item_size(item: &Value) -> f64 {
    item.as_object().map_or(0.0, |attributes| {
        attributes
            .iter()
            .map(|(name, value)| bytes(name) + value_size(value))
            .sum()
    })
}

fn bytes(text: &str) -> f64 {
    f64::from(u32::try_from(text.len()).unwrap_or(u32::MAX))
}

/// One attribute value (`{"S": ...}`, `{"N": ...}`, ...): strings and binaries by their bytes,
/// a number by about one byte per two digits plus one, a list or map 3 bytes plus one per
/// element beside the elements.
fn value_size(value: &Value) -> f64 {
    let Some((kind, inner)) = value.as_object().and_then(|v| v.iter().next()) else {
        return 0.0;
    };
    let number = |n: &Value| (bytes(n.as_str().unwrap_or_default()) / 2.0).ceil() + 1.0;
    // Binary values travel base64-encoded: three bytes for every four characters.
    let binary = |b: &Value| (bytes(b.as_str().unwrap_or_default()) * 3.0 / 4.0).floor();
    let members = || inner.as_array().into_iter().flatten();
    match kind.as_str() {
        "S" => bytes(inner.as_str().unwrap_or_default()),
        "N" => number(inner),
        "B" => binary(inner),
        "BOOL" | "NULL" => 1.0,
        "SS" => members()
            .map(|s| bytes(s.as_str().unwrap_or_default()))
            .sum(),
        "NS" => members().map(number).sum(),
        "BS" => members().map(binary).sum(),
        "L" => 3.0 + members().map(|v| value_size(v) + 1.0).sum::<f64>(),
        "M" => {
            3.0 + inner.as_object().map_or(0.0, |entries| {
                entries
                    .iter()
                    .map(|(name, v)| bytes(name) + value_size(v) + 1.0)
                    .sum()
            })
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::monitoring::{Stat, Window, now_ms};

    use super::*;

    fn recorded(target: &str, request: &Value, answer: &Value) -> BTreeMap<String, f64> {
        let monitoring = Monitoring::default();
        let (sent, metered) = meter(
            Some(&format!("DynamoDB_20120810.{target}")),
            Bytes::from(request.to_string()),
        );
        assert_eq!(sent, Bytes::from(request.to_string()), "sent unchanged");
        let answer = Bytes::from(answer.to_string());
        assert_eq!(
            record(metered.unwrap(), answer.clone(), &monitoring),
            answer
        );
        let window = Window::last(1, 60_000, now_ms());
        let mut units = BTreeMap::new();
        for metric in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"] {
            for table in ["Orders", "Events", "Views"] {
                let key = MetricKey::new("AWS/DynamoDB", metric, &[("TableName", table)]);
                if let [Some(sum)] = monitoring.store.read(&key, Stat::Sum, window)[..] {
                    units.insert(format!("{metric} {table}"), sum);
                }
            }
        }
        units
    }

    fn units(entries: &[(&str, f64)]) -> BTreeMap<String, f64> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn a_write_costs_a_unit_per_kilobyte_and_a_transaction_twice_that() {
        let small = json!({"id": {"S": "o-1"}, "total": {"N": "6897"}});
        let large = json!({"id": {"S": "o-2"}, "body": {"S": "x".repeat(1500)}});
        assert_eq!(
            recorded(
                "PutItem",
                &json!({"TableName": "Orders", "Item": large}),
                &json!({})
            ),
            units(&[("ConsumedWriteCapacityUnits Orders", 2.0)])
        );
        assert_eq!(
            recorded(
                "UpdateItem",
                &json!({"TableName": "Orders", "Key": {"id": {"S": "o-1"}}}),
                &json!({})
            ),
            units(&[("ConsumedWriteCapacityUnits Orders", 1.0)])
        );
        let transaction = json!({"TransactItems": [
            {"Put": {"TableName": "Events", "Item": small}},
            {"Put": {"TableName": "Events", "Item": large}},
            {"Update": {"TableName": "Views", "Key": {"id": {"S": "o-1"}}}},
        ]});
        assert_eq!(
            recorded("TransactWriteItems", &transaction, &json!({})),
            units(&[
                ("ConsumedWriteCapacityUnits Events", 2.0 + 4.0),
                ("ConsumedWriteCapacityUnits Views", 2.0)
            ])
        );
    }

    #[test]
    fn a_read_costs_half_a_unit_per_four_kilobytes_unless_strongly_consistent() {
        let item = |size: usize| json!({"id": {"S": "o"}, "body": {"S": "x".repeat(size)}});
        assert_eq!(
            recorded(
                "GetItem",
                &json!({"TableName": "Orders", "ConsistentRead": true}),
                &json!({"Item": item(5000)})
            ),
            units(&[("ConsumedReadCapacityUnits Orders", 2.0)])
        );
        // Nothing found still costs the minimum.
        assert_eq!(
            recorded("GetItem", &json!({"TableName": "Orders"}), &json!({})),
            units(&[("ConsumedReadCapacityUnits Orders", 0.5)])
        );
        // A query's items are added up before rounding: three of 2 KB are 6 KB, two units.
        assert_eq!(
            recorded(
                "Query",
                &json!({"TableName": "Events"}),
                &json!({"Items": [item(2000), item(2000), item(2000)], "Count": 3})
            ),
            units(&[("ConsumedReadCapacityUnits Events", 1.0)])
        );
    }

    #[test]
    fn sizes_follow_dynamodbs_rules_for_each_kind_of_value() {
        let item = json!({
            "s": {"S": "héllo"},
            "n": {"N": "12345"},
            "b": {"B": "AAAA"},
            "t": {"BOOL": true},
            "l": {"L": [{"S": "ab"}, {"N": "1"}]},
            "m": {"M": {"k": {"S": "v"}}}
        });
        // s: 1 + 6; n: 1 + 4; b: 1 + 3; t: 1 + 1; l: 1 + 3 + (2 + 1) + (2 + 1); m: 1 + 3 + (1 + 1 + 1)
        assert!((item_size(&item) - (7.0 + 5.0 + 4.0 + 2.0 + 10.0 + 7.0)).abs() < f64::EPSILON);
    }

    #[test]
    fn other_calls_pass_unmetered() {
        let describe = Bytes::from_static(br#"{"TableName":"Orders"}"#);
        assert!(
            meter(Some("DynamoDB_20120810.DescribeTable"), describe.clone())
                .1
                .is_none()
        );
        assert!(meter(Some("AmazonSQS.SendMessage"), describe).1.is_none());
    }
}
