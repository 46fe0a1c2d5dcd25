//! The saved Logs Insights queries of the template read fields the functions really write.
//! moto cannot store query definitions (PutQueryDefinition is a 500), so instead each query's
//! fields are looked up in the JSON lines the functions of its log groups wrote on devstack,
//! after traffic that makes each kind of line: requests, a failed login, and a stream record
//! that cannot be processed and is parked.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use devstack::template::{Properties, ResourceKind, Template};
use serde_json::{Value, json};
use system_tests::{system, workspace};

/// The fields a query reads: every name in it but keywords, functions, aliases (`as x`),
/// strings, numbers and CloudWatch's own `@` fields.
fn fields(query: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "fields",
        "filter",
        "stats",
        "sort",
        "limit",
        "by",
        "as",
        "and",
        "or",
        "not",
        "like",
        "asc",
        "desc",
        "in",
        "count",
        "count_distinct",
        "sum",
        "avg",
        "min",
        "max",
        "pct",
    ];
    let mut without_strings = String::new();
    let mut quoted = false;
    for c in query.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            without_strings.push(c);
        }
    }
    let words: Vec<&str> = without_strings
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    // An alias (`count(*) as attempts`) may be sorted on later: it is the query's, not a field.
    let aliases: BTreeSet<&str> = words
        .windows(2)
        .filter(|pair| pair[0] == "as")
        .map(|pair| pair[1])
        .collect();
    let mut fields = BTreeSet::new();
    for word in &words {
        if aliases.contains(word)
            || word.starts_with('@')
            || word.chars().next().is_some_and(|c| c.is_ascii_digit())
            || KEYWORDS.contains(&word.to_ascii_lowercase().as_str())
        {
            continue;
        }
        fields.insert((*word).to_owned());
    }
    fields
}

/// Every key of a JSON log line, at any depth (span fields sit in `spans`).
fn keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                out.insert(key.clone());
                keys(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
        _ => {}
    }
}

#[test]
fn fields_are_read_as_insights_reads_them() {
    assert_eq!(
        fields(
            r#"filter audit = "login_attempt" and outcome != "succeeded" | stats count(*) as attempts, count_distinct(email_hash) as accounts by source_ip, outcome"#
        ),
        BTreeSet::from(["audit", "email_hash", "outcome", "source_ip"].map(str::to_owned))
    );
}

#[tokio::test]
async fn every_saved_query_reads_fields_its_functions_write() {
    let system = system();
    let config = system.sdk_config().await;

    // A request to a service: its access line.
    system
        .http()
        .get(system.url("/orders"))
        .bearer_auth(&system.customer_token)
        .send()
        .await
        .unwrap();
    // A failed login: the audit line.
    system
        .http()
        .post(system.url("/auth/login"))
        .json(&json!({"email": "customer@shop.local", "password": "not-the-Password1"}))
        .send()
        .await
        .unwrap();
    // A record no publisher can read, in the orders event store: parked with its reason.
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let tables = dynamodb
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default();
    let events = tables
        .iter()
        .find(|t| t.ends_with("OrderEventsTable"))
        .unwrap();
    let order = uuid::Uuid::new_v4().to_string();
    dynamodb
        .put_item()
        .table_name(events)
        .item("order_id", AttributeValue::S(order.clone()))
        .item("sequence", AttributeValue::N("1".to_owned()))
        .item("garbage", AttributeValue::S("not an event".to_owned()))
        .send()
        .await
        .unwrap();
    system
        .wait_for_message("OrdersPublisherDLQ", |parked| {
            parked.to_string().contains(&order)
        })
        .await;

    let template = Template::load(&[workspace().join("infra/template.yaml")]).unwrap();
    let log_dir = system
        .log_dir
        .clone()
        .expect("devstack writes function logs");
    let mut checked = 0;
    for query in template.of_kind(ResourceKind::LogQueryDefinition) {
        let Properties::NotEmulated(properties) = &query.properties else {
            panic!("{} is read as written", query.logical_id);
        };
        let wanted = fields(properties["QueryString"].as_str().unwrap());
        let mut written = BTreeSet::new();
        let mut functions = Vec::new();
        for group in properties["LogGroupNames"].as_array().unwrap() {
            let group = group["Ref"].as_str().unwrap();
            // The access log and the saga's log are written by API Gateway and Step Functions,
            // which devstack does not emulate that far: their fields are checked on AWS only.
            let Some(function) = group
                .strip_suffix("Logs")
                .filter(|f| f.ends_with("Function"))
            else {
                continue;
            };
            functions.push(function.to_owned());
            let text = std::fs::read_to_string(log_dir.join(format!("{function}.log")))
                .unwrap_or_default();
            for line in text.lines() {
                if let Ok(value) = serde_json::from_str::<Value>(line) {
                    keys(&value, &mut written);
                }
            }
        }
        if functions.is_empty() {
            continue;
        }
        checked += 1;
        let missing: Vec<&String> = wanted.difference(&written).collect();
        assert!(
            missing.is_empty(),
            "{} reads {missing:?}, which no line of {functions:?} has",
            query.logical_id
        );
    }
    assert!(checked >= 3, "the queries over function logs were checked");
}
