//! The shop's CloudWatch dashboards show what the system really has and really emits. A
//! widget asking for a metric nobody publishes, or for a function that was renamed, draws an
//! empty graph that looks like a quiet system; these tests read every dashboard body the way
//! CloudFormation and CloudWatch would (references resolved, JSON parsed) and hold each metric
//! to the AWS metric it names or to `shop_observability::metric_names`, and each dashboard to
//! the resources of the template it is meant to show.

// Tests panic to fail.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use devstack::{
    provision::names,
    template::{
        Attribute, EventTarget, FunctionEvent, Properties, Resolver, ResourceKind, Template,
    },
};
use serde_json::Value;
use shop_observability::{metric_names, metrics::NAMESPACE};

const SERVICES: [&str; 6] = [
    "auth",
    "catalog",
    "orders",
    "inventory",
    "payments",
    "shipping",
];
/// The stage the dashboards are resolved for: their names are `shop-<stage>-<what>`.
const STAGE: &str = "audit";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shop() -> Template {
    Template::load(&[repo().join("infra/template.yaml")]).unwrap()
}

/// Metrics of one AWS namespace published under the same dimension sets.
struct AwsMetrics {
    namespace: &'static str,
    names: &'static [&'static str],
    dimension_sets: &'static [&'static [&'static str]],
}

/// The AWS metrics a dashboard may draw, with the dimension sets AWS publishes each under.
/// Lambda: docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html; DynamoDB:
/// .../amazondynamodb/latest/developerguide/metrics-dimensions.html; SQS:
/// .../AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html;
/// Step Functions: .../step-functions/latest/dg/procedure-cw-metrics.html; EventBridge (a
/// custom bus: EventBusName and RuleName): .../eventbridge/latest/userguide/eb-monitoring.html;
/// HTTP APIs: .../apigateway/latest/developerguide/http-api-metrics.html.
const AWS_METRICS: &[AwsMetrics] = &[
    AwsMetrics {
        namespace: "AWS/Lambda",
        names: &[
            "Invocations",
            "Errors",
            "Throttles",
            "Duration",
            "ConcurrentExecutions",
            "IteratorAge",
            "AsyncEventAge",
        ],
        dimension_sets: &[&["FunctionName"]],
    },
    AwsMetrics {
        namespace: "AWS/DynamoDB",
        names: &[
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        ],
        dimension_sets: &[&["TableName"], &["TableName", "GlobalSecondaryIndexName"]],
    },
    AwsMetrics {
        namespace: "AWS/SQS",
        names: &[
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
        ],
        dimension_sets: &[&["QueueName"]],
    },
    AwsMetrics {
        namespace: "AWS/States",
        names: &[
            "ExecutionsStarted",
            "ExecutionsSucceeded",
            "ExecutionsFailed",
            "ExecutionsTimedOut",
            "ExecutionsAborted",
            "ExecutionThrottled",
            "ExecutionTime",
        ],
        dimension_sets: &[&["StateMachineArn"]],
    },
    AwsMetrics {
        namespace: "AWS/States",
        names: &[
            "ServiceIntegrationsScheduled",
            "ServiceIntegrationsSucceeded",
            "ServiceIntegrationsFailed",
            "ServiceIntegrationsTimedOut",
        ],
        dimension_sets: &[&["ServiceIntegrationResourceArn"]],
    },
    AwsMetrics {
        namespace: "AWS/Events",
        names: &[
            "MatchedEvents",
            "Invocations",
            "FailedInvocations",
            "InvocationsSentToDlq",
            "InvocationsFailedToBeSentToDlq",
        ],
        dimension_sets: &[&["EventBusName", "RuleName"]],
    },
    AwsMetrics {
        namespace: "AWS/ApiGateway",
        names: &["Count", "4xx", "5xx", "Latency", "IntegrationLatency"],
        dimension_sets: &[&["ApiId"]],
    },
];

/// The Lambda integration the saga's tasks use (`arn:aws:states:::lambda:invoke`), the one
/// dimension value that is not a resource of the template.
const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// Every name a dashboard can refer to, resolved as on a stack named `shop-audit`, and for
/// each dimension (or alarm list) the logical id behind each value.
struct Stack {
    template: Template,
    resolver: Resolver,
    by_dimension: HashMap<&'static str, HashMap<String, String>>,
}

impl Stack {
    fn new() -> Self {
        let template = shop();
        let parameters = template
            .parameters
            .iter()
            .map(|(name, default)| {
                let value = if name == "Stage" {
                    STAGE.to_owned()
                } else {
                    default.clone().unwrap_or_default()
                };
                (name.clone(), value)
            })
            .collect();
        let mut resolver = Resolver::new(
            devstack::REGION,
            devstack::ACCOUNT,
            "shop-audit",
            parameters,
        );
        for resource in &template.resources {
            let id = &resource.logical_id;
            let name = format!("shop-audit-{id}");
            resolver.set(id, Attribute::Ref, name.clone());
            resolver.set(id, Attribute::Name, name.clone());
            resolver.set(id, Attribute::Arn, names::arn(&resolver, "service", &name));
            if resource.kind == ResourceKind::SqsQueue {
                resolver.set(id, Attribute::QueueName, name.clone());
                resolver.set(id, Attribute::QueueUrl, format!("https://sqs/{name}"));
                resolver.set(id, Attribute::Ref, format!("https://sqs/{name}"));
            }
        }
        names::name_rules(&template, &mut resolver).unwrap();

        let mut by_dimension: HashMap<&'static str, HashMap<String, String>> = HashMap::new();
        let mut record = |dimension: &'static str, id: &str, attribute: Attribute| {
            let value = resolver.get(id, attribute).unwrap().to_owned();
            by_dimension
                .entry(dimension)
                .or_default()
                .insert(value, id.to_owned());
        };
        for resource in &template.resources {
            let id = resource.logical_id.as_str();
            match resource.kind {
                ResourceKind::Function => record("FunctionName", id, Attribute::Ref),
                ResourceKind::DynamoDbTable => record("TableName", id, Attribute::Ref),
                ResourceKind::SqsQueue => record("QueueName", id, Attribute::QueueName),
                ResourceKind::StateMachine => record("StateMachineArn", id, Attribute::Ref),
                ResourceKind::EventBus => record("EventBusName", id, Attribute::Ref),
                ResourceKind::HttpApi => record("ApiId", id, Attribute::Ref),
                ResourceKind::LogGroup => record("log group", id, Attribute::Ref),
                ResourceKind::Alarm | ResourceKind::CompositeAlarm => {
                    record("alarm", id, Attribute::Arn);
                }
                _ => {}
            }
        }
        for rule in template.rules().unwrap() {
            record("RuleName", &rule.logical_id, Attribute::RuleName);
        }
        Self {
            template,
            resolver,
            by_dimension,
        }
    }

    /// The logical id a dimension's value names, if the dimension names resources.
    fn resource(&self, dimension: &str, value: &str) -> Option<&str> {
        self.by_dimension
            .get(dimension)?
            .get(value)
            .map(String::as_str)
    }

    fn dashboards(&self) -> Vec<Dashboard> {
        self.template
            .of_kind(ResourceKind::Dashboard)
            .map(|resource| {
                let id = &resource.logical_id;
                let Properties::NotEmulated(properties) = &resource.properties else {
                    panic!("{id} is read as written");
                };
                let name = self
                    .resolver
                    .resolve_string(&properties["DashboardName"], id)
                    .unwrap_or_else(|error| panic!("{error}"));
                // CloudFormation substitutes first; CloudWatch then parses what is left.
                let body = self
                    .resolver
                    .resolve_string(&properties["DashboardBody"], id)
                    .unwrap_or_else(|error| panic!("{error}"));
                let body: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|error| panic!("{id}: the body is not JSON: {error}"));
                let what = name
                    .strip_prefix(&format!("shop-{STAGE}-"))
                    .unwrap_or_else(|| panic!("{id}: {name} is not shop-<stage>-<what>"))
                    .to_owned();
                Dashboard {
                    logical_id: id.clone(),
                    what,
                    body,
                }
            })
            .collect()
    }

    /// Each service's functions, by the crate their binary comes from (`orders-http`).
    fn functions_of(&self, service: &str) -> Vec<devstack::template::Function> {
        self.template
            .functions()
            .unwrap()
            .into_iter()
            .filter(|f| f.binary.split('-').next() == Some(service))
            .collect()
    }

    fn routes_of(&self, service: &str) -> BTreeSet<String> {
        self.functions_of(service)
            .iter()
            .flat_map(|f| {
                f.http_routes()
                    .map(|r| format!("{} {}", r.method, r.path))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The tables a service's functions name in their environment or their policies: a table
    /// belongs to exactly one service.
    fn tables_of(&self, service: &str) -> BTreeSet<String> {
        let mut referenced = BTreeSet::new();
        for function in self.functions_of(service) {
            references(
                &Value::Object(function.environment.clone()),
                &mut referenced,
            );
            references(&function.policies, &mut referenced);
        }
        referenced
            .into_iter()
            .filter(|id| {
                self.template
                    .resource(id)
                    .is_some_and(|r| r.kind == ResourceKind::DynamoDbTable)
            })
            .collect()
    }

    /// Where a service's failed events and records wait: its rules' DLQs and its functions'
    /// on-failure destinations.
    fn failure_queues_of(&self, service: &str) -> BTreeSet<String> {
        self.functions_of(service)
            .iter()
            .flat_map(|f| {
                let mut queues = self.rule_failure_queues(f);
                queues.extend(
                    f.stream_sources()
                        .filter_map(|s| s.on_failure.as_ref())
                        .map(|d| self.queue(&d.queue)),
                );
                queues
            })
            .collect()
    }

    /// Where the events a function gets from the bus wait when they fail: what its rules could
    /// not deliver (the rule's DLQ) and what the function failed on (its on-failure destination).
    fn rule_failure_queues(&self, function: &devstack::template::Function) -> BTreeSet<String> {
        let mut queues: BTreeSet<String> = function
            .async_invoke
            .on_failure
            .iter()
            .map(|d| self.queue(&d.queue))
            .collect();
        for event in &function.events {
            if let FunctionEvent::Rule(rule) = event {
                for target in &rule.targets {
                    if let EventTarget::Function {
                        dead_letter: Some(queue),
                        ..
                    } = target
                    {
                        queues.insert(self.queue(queue));
                    }
                }
            }
        }
        queues
    }

    fn queue(&self, reference: &Value) -> String {
        self.template
            .referenced(reference)
            .unwrap()
            .logical_id
            .clone()
    }
}

/// Logical ids a value refers to with `Ref`, `Fn::GetAtt` or inside `Fn::Sub`.
fn references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("Ref") {
                out.insert(id.clone());
            }
            if let Some(Value::String(id)) = map.get("Fn::GetAtt").and_then(|a| a.get(0)) {
                out.insert(id.clone());
            }
            let sub = match map.get("Fn::Sub") {
                Some(Value::String(text)) => Some(text.as_str()),
                Some(Value::Array(parts)) => parts.first().and_then(Value::as_str),
                _ => None,
            };
            for reference in sub.into_iter().flat_map(|text| text.split("${").skip(1)) {
                let name = reference.split(['}', '.']).next().unwrap_or_default();
                out.insert(name.to_owned());
            }
            map.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

struct Dashboard {
    logical_id: String,
    /// `overview`, a service, `saga` or `bus`: its name is `shop-<stage>-<what>`.
    what: String,
    body: Value,
}

/// One metric a widget draws, as `[namespace, name, dimension, value, ..., {rendering}]`.
#[derive(Debug)]
struct Drawn {
    namespace: String,
    name: String,
    dimensions: BTreeMap<String, String>,
}

impl Dashboard {
    fn widgets(&self) -> &Vec<Value> {
        self.body["widgets"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no widgets array", self.logical_id))
    }

    fn metrics(&self) -> Vec<(String, Drawn)> {
        let mut drawn = Vec::new();
        for widget in self.widgets() {
            let title = widget["properties"]["title"].as_str().unwrap_or_default();
            for entry in widget["properties"]["metrics"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(metric) = parse_metric(entry, &format!("{}: {title}", self.logical_id))
                {
                    drawn.push((title.to_owned(), metric));
                }
            }
        }
        drawn
    }

    /// The logical ids the dashboard's metrics name under a dimension.
    fn resources(&self, stack: &Stack, dimension: &str, metric: Option<&str>) -> BTreeSet<String> {
        self.metrics()
            .iter()
            .filter(|(_, m)| metric.is_none_or(|name| m.name == name))
            .filter_map(|(_, m)| m.dimensions.get(dimension))
            .filter_map(|value| stack.resource(dimension, value).map(str::to_owned))
            .collect()
    }
}

/// `None` for a math expression (`[{"expression": ...}]`).
fn parse_metric(entry: &Value, at: &str) -> Option<Drawn> {
    let items = entry
        .as_array()
        .unwrap_or_else(|| panic!("{at}: {entry} is not an array"));
    if items.first().is_some_and(Value::is_object) {
        assert!(
            items[0]["expression"].is_string(),
            "{at}: {entry} is neither a metric nor an expression"
        );
        return None;
    }
    let strings: Vec<&str> = items
        .iter()
        .take_while(|item| item.is_string())
        .map(|item| item.as_str().unwrap())
        .collect();
    assert!(
        items.len() - strings.len() <= 1
            && items.last().is_some_and(|l| l.is_string() || l.is_object()),
        "{at}: {entry}: strings, then at most one rendering object"
    );
    // CloudWatch's "repeat the previous" shorthand makes a metric depend on its neighbour.
    assert!(
        !strings.iter().any(|s| *s == "." || *s == "..."),
        "{at}: {entry} uses the shorthand; spell the metric out"
    );
    assert!(
        strings.len() >= 2 && strings.len().is_multiple_of(2),
        "{at}: {entry}: namespace, name, then dimension pairs"
    );
    Some(Drawn {
        namespace: strings[0].to_owned(),
        name: strings[1].to_owned(),
        dimensions: strings[2..]
            .chunks(2)
            .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
            .collect(),
    })
}

#[test]
fn every_dashboard_body_is_json_once_its_references_resolve_and_fits_the_grid() {
    let stack = Stack::new();
    let dashboards = stack.dashboards();
    assert!(!dashboards.is_empty());
    for dashboard in &dashboards {
        assert!(!dashboard.widgets().is_empty(), "{}", dashboard.logical_id);
        for widget in dashboard.widgets() {
            let (x, width) = (
                widget["x"].as_u64().unwrap(),
                widget["width"].as_u64().unwrap(),
            );
            assert!(widget["y"].is_u64() && widget["height"].as_u64().unwrap() >= 1);
            assert!(
                x + width <= 24,
                "{}: {widget} leaves the 24 columns",
                dashboard.logical_id
            );
            assert!(
                matches!(
                    widget["type"].as_str(),
                    Some("metric" | "text" | "alarm" | "log")
                ),
                "{}: {}",
                dashboard.logical_id,
                widget["type"]
            );
        }
    }
}

#[test]
fn every_widget_says_what_it_shows_and_every_dashboard_opens_with_what_it_is_for() {
    for dashboard in Stack::new().dashboards() {
        let id = &dashboard.logical_id;
        for widget in dashboard.widgets() {
            let properties = &widget["properties"];
            if widget["type"] == "text" {
                let markdown = properties["markdown"].as_str().unwrap();
                assert!(
                    markdown.starts_with("# "),
                    "{id}: a text widget without a heading"
                );
            } else {
                let title = properties["title"].as_str().unwrap_or_default();
                assert!(
                    title.len() > 10,
                    "{id}: a {} widget titled {title:?}",
                    widget["type"]
                );
            }
        }
        let first = dashboard
            .widgets()
            .iter()
            .find(|w| w["x"] == 0 && w["y"] == 0)
            .unwrap_or_else(|| panic!("{id}: nothing in the top left corner"));
        assert_eq!(first["type"], "text", "{id} opens with what it is for");
        let text = first["properties"]["markdown"].as_str().unwrap();
        assert!(
            text.contains("Look first"),
            "{id}: its introduction says what to look at first"
        );
    }
}

#[test]
fn every_metric_is_one_aws_publishes_or_the_code_emits_under_dimensions_it_has() {
    let stack = Stack::new();
    let mut seen = 0;
    for dashboard in stack.dashboards() {
        for (title, metric) in dashboard.metrics() {
            seen += 1;
            let at = format!("{} / {title}: {metric:?}", dashboard.logical_id);
            let names: Vec<&str> = metric.dimensions.keys().map(String::as_str).collect();
            if metric.namespace == NAMESPACE {
                let known = metric_names::named(&metric.name).unwrap_or_else(|| {
                    panic!("{at}: shop_observability::metric_names has no such metric")
                });
                assert!(
                    known.has_dimension_set(&names),
                    "{at}: emitted with {:?} after service",
                    known.dimensions
                );
                let service = &metric.dimensions[metric_names::SERVICE];
                assert!(
                    SERVICES.contains(&service.as_str()),
                    "{at}: no service {service}"
                );
                if let Some(route) = metric.dimensions.get(metric_names::ROUTE) {
                    assert!(
                        stack.routes_of(service).contains(route),
                        "{at}: {service} has no route {route}"
                    );
                }
                continue;
            }
            let sets = AWS_METRICS
                .iter()
                .filter(|known| {
                    known.namespace == metric.namespace
                        && known.names.contains(&metric.name.as_str())
                })
                .flat_map(|known| known.dimension_sets.iter())
                .collect::<Vec<_>>();
            assert!(
                !sets.is_empty(),
                "{at}: not an AWS metric the dashboards know"
            );
            assert!(
                sets.iter()
                    .any(|set| set.len() == names.len() && set.iter().all(|n| names.contains(n))),
                "{at}: AWS publishes it under {sets:?}"
            );
            for (dimension, value) in &metric.dimensions {
                match dimension.as_str() {
                    "GlobalSecondaryIndexName" => {}
                    "ServiceIntegrationResourceArn" => assert_eq!(value, LAMBDA_INVOKE, "{at}"),
                    _ => assert!(
                        stack.resource(dimension, value).is_some(),
                        "{at}: {dimension} {value} is no resource of the template"
                    ),
                }
            }
        }
    }
    assert!(seen > 100, "the dashboards' metrics were read");
}

/// Metric math refers to other metrics of its widget by id; a misspelt id draws nothing.
#[test]
fn every_expression_refers_only_to_metrics_of_its_widget() {
    for dashboard in Stack::new().dashboards() {
        for widget in dashboard.widgets() {
            let metrics = widget["properties"]["metrics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let ids: BTreeSet<&str> = metrics
                .iter()
                .filter_map(|m| m.as_array()?.iter().find(|i| i.is_object())?["id"].as_str())
                .collect();
            for metric in &metrics {
                let Some(expression) = metric[0]["expression"].as_str() else {
                    continue;
                };
                // Functions are upper case (SUM, FILL); ids start with a lower-case letter.
                for word in expression.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
                    if word.starts_with(|c: char| c.is_ascii_lowercase()) {
                        assert!(
                            ids.contains(word),
                            "{}: {expression}: no metric with id {word}",
                            dashboard.logical_id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn each_service_has_a_dashboard_showing_its_routes_functions_tables_streams_and_queues() {
    let stack = Stack::new();
    let dashboards = stack.dashboards();
    for service in SERVICES {
        let dashboard = dashboards
            .iter()
            .find(|d| d.what == service)
            .unwrap_or_else(|| panic!("no dashboard shop-<stage>-{service}"));
        let functions: BTreeSet<String> = stack
            .functions_of(service)
            .iter()
            .map(|f| f.logical_id.clone())
            .collect();
        let streams: BTreeSet<String> = stack
            .functions_of(service)
            .iter()
            .filter(|f| f.stream_sources().next().is_some())
            .map(|f| f.logical_id.clone())
            .collect();
        assert!(!functions.is_empty() && !stack.tables_of(service).is_empty());
        for metric in [
            "Invocations",
            "Errors",
            "Duration",
            "Throttles",
            "ConcurrentExecutions",
        ] {
            assert_eq!(
                dashboard.resources(&stack, "FunctionName", Some(metric)),
                functions,
                "{service}: {metric}"
            );
        }
        assert_eq!(
            dashboard.resources(&stack, "FunctionName", Some("IteratorAge")),
            streams,
            "{service}: iterator ages"
        );
        for metric in [
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        ] {
            assert_eq!(
                dashboard.resources(&stack, "TableName", Some(metric)),
                stack.tables_of(service),
                "{service}: {metric}"
            );
        }
        for metric in [
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
        ] {
            assert_eq!(
                dashboard.resources(&stack, "QueueName", Some(metric)),
                stack.failure_queues_of(service),
                "{service}: {metric}"
            );
        }
        for metric in ["Requests", "Errors4xx", "Errors5xx", "Latency"] {
            let routes: BTreeSet<String> = dashboard
                .metrics()
                .iter()
                .filter(|(_, m)| {
                    m.name == metric && m.dimensions.get("service").is_some_and(|s| s == service)
                })
                .filter_map(|(_, m)| m.dimensions.get(metric_names::ROUTE).cloned())
                .collect();
            assert_eq!(
                routes,
                stack.routes_of(service),
                "{service}: {metric} per route"
            );
        }
        for (_, metric) in dashboard.metrics() {
            if let Some(other) = metric.dimensions.get(metric_names::SERVICE) {
                assert_eq!(
                    other, service,
                    "{service}'s dashboard shows {other}'s {}",
                    metric.name
                );
            }
        }
    }
}

#[test]
fn the_bus_dashboard_shows_every_rule_and_every_queue_a_rule_consumer_fails_into() {
    let stack = Stack::new();
    let bus = stack
        .dashboards()
        .into_iter()
        .find(|d| d.what == "bus")
        .expect("a bus dashboard");
    let rules: BTreeSet<String> = stack
        .template
        .rules()
        .unwrap()
        .into_iter()
        .map(|r| r.logical_id)
        .collect();
    assert!(rules.len() > 5);
    for metric in [
        "MatchedEvents",
        "Invocations",
        "FailedInvocations",
        "InvocationsSentToDlq",
        "InvocationsFailedToBeSentToDlq",
    ] {
        assert_eq!(
            bus.resources(&stack, "RuleName", Some(metric)),
            rules,
            "{metric}"
        );
    }
    let consumer_queues: BTreeSet<String> = stack
        .template
        .functions()
        .unwrap()
        .iter()
        .flat_map(|f| stack.rule_failure_queues(f))
        .collect();
    assert!(consumer_queues.len() > 5);
    for metric in [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    ] {
        assert_eq!(
            bus.resources(&stack, "QueueName", Some(metric)),
            consumer_queues,
            "{metric}"
        );
    }
    let publishers: BTreeSet<&str> = bus
        .metrics()
        .iter()
        .filter(|(_, m)| m.name == metric_names::EVENTS_PUBLISHED.name)
        .map(|(_, m)| {
            SERVICES
                .into_iter()
                .find(|s| m.dimensions["service"] == *s)
                .unwrap()
        })
        .collect();
    assert_eq!(
        publishers,
        SERVICES.into_iter().collect(),
        "every service publishes"
    );
}

#[test]
fn the_saga_dashboard_shows_the_state_machine_and_its_task_functions() {
    let stack = Stack::new();
    let saga = stack
        .dashboards()
        .into_iter()
        .find(|d| d.what == "saga")
        .expect("a saga dashboard");
    let machines: BTreeSet<String> = stack
        .template
        .of_kind(ResourceKind::StateMachine)
        .map(|r| r.logical_id.clone())
        .collect();
    for metric in [
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
        "ExecutionTime",
    ] {
        assert_eq!(
            saga.resources(&stack, "StateMachineArn", Some(metric)),
            machines,
            "{metric}"
        );
    }
    // The tasks are the functions the state machines' definitions are given.
    let mut tasks = BTreeSet::new();
    for machine in stack.template.state_machines().unwrap() {
        for value in machine.substitutions.values() {
            references(value, &mut tasks);
        }
    }
    assert_eq!(tasks.len(), 3);
    for metric in ["Errors", "Duration"] {
        assert_eq!(
            saga.resources(&stack, "FunctionName", Some(metric)),
            tasks,
            "{metric}"
        );
    }
}

#[test]
fn the_overview_shows_every_alarm_the_gateway_and_every_service() {
    let stack = Stack::new();
    let overview = stack
        .dashboards()
        .into_iter()
        .find(|d| d.what == "overview")
        .expect("an overview dashboard");
    let alarms: BTreeSet<String> = stack
        .template
        .resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::Alarm | ResourceKind::CompositeAlarm))
        .map(|r| r.logical_id.clone())
        .collect();
    let shown: BTreeSet<String> = overview
        .widgets()
        .iter()
        .filter(|w| w["type"] == "alarm")
        .flat_map(|w| w["properties"]["alarms"].as_array().unwrap().iter())
        .map(|arn| {
            stack
                .resource("alarm", arn.as_str().unwrap())
                .unwrap_or_else(|| panic!("{arn} is no alarm"))
                .to_owned()
        })
        .collect();
    assert_eq!(shown, alarms);
    assert!(
        !overview
            .resources(&stack, "ApiId", Some("Count"))
            .is_empty(),
        "the gateway's traffic"
    );
    assert!(
        !overview.resources(&stack, "ApiId", Some("5xx")).is_empty(),
        "the gateway's server errors"
    );
    for metric in ["Requests", "Errors5xx", "Latency"] {
        let services: BTreeSet<String> = overview
            .metrics()
            .into_iter()
            .filter(|(_, m)| {
                m.namespace == NAMESPACE && m.name == metric && m.dimensions.len() == 1
            })
            .map(|(_, m)| m.dimensions[metric_names::SERVICE].clone())
            .collect();
        assert_eq!(
            services,
            SERVICES.map(str::to_owned).into_iter().collect(),
            "{metric} per service"
        );
    }
}

/// A Logs Insights widget reads only the log groups its query names after `SOURCE`; each must
/// be a group of the template, or the widget answers with an error.
#[test]
fn every_log_widget_reads_log_groups_of_the_template() {
    let stack = Stack::new();
    let mut widgets = 0;
    for dashboard in stack.dashboards() {
        for widget in dashboard.widgets().iter().filter(|w| w["type"] == "log") {
            widgets += 1;
            let query = widget["properties"]["query"].as_str().unwrap();
            let sources: Vec<&str> = query
                .split('|')
                .next()
                .unwrap()
                .split("SOURCE")
                .skip(1)
                .map(|source| source.trim().trim_matches('\''))
                .collect();
            assert!(
                !sources.is_empty(),
                "{}: {query} names no log group",
                dashboard.logical_id
            );
            for group in sources {
                assert!(
                    stack.resource("log group", group).is_some(),
                    "{}: {group} is no log group of the template",
                    dashboard.logical_id
                );
            }
        }
    }
    assert!(widgets > 0, "the compensation count reads the saga's log");
}

/// docs/operations.md lists the dashboards the template has, no more, no fewer.
#[test]
fn the_operations_guide_lists_exactly_the_dashboards_of_the_template() {
    let guide = std::fs::read_to_string(repo().join("docs/operations.md")).unwrap();
    let section = guide
        .split("\n## ")
        .find(|s| s.starts_with("Dashboards"))
        .expect("a Dashboards section");
    let listed: BTreeSet<String> = section
        .split("shop-<stage>-")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_lowercase)
                .collect::<String>()
        })
        // `shop-<stage>-<what>` names the pattern, not a dashboard.
        .filter(|what| !what.is_empty())
        .collect();
    let built: BTreeSet<String> = Stack::new()
        .dashboards()
        .into_iter()
        .map(|d| d.what)
        .collect();
    assert_eq!(listed, built);
}

/// Every metric name the code writes as a literal (`.count("Name", ..)`, `.millis(..)`) is one
/// metric_names lists, so the dashboards' check above covers what the code really emits.
#[test]
fn every_metric_name_written_in_the_code_is_listed_in_metric_names() {
    let mut files = Vec::new();
    for top in ["functions", "shared"] {
        for crate_dir in std::fs::read_dir(repo().join(top)).unwrap() {
            rust_files(&crate_dir.unwrap().path().join("src"), &mut files);
        }
    }
    let mut found = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for call in [".count(", ".millis("] {
            for after in text.split(call).skip(1) {
                let Some(literal) = after.trim_start().strip_prefix('"') else {
                    continue;
                };
                let name = literal.split('"').next().unwrap();
                found += 1;
                assert!(
                    metric_names::named(name).is_some(),
                    "{}: metric {name} is not in shop_observability::metric_names",
                    file.display()
                );
            }
        }
    }
    assert!(found > 0, "the literal metric names were found");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
