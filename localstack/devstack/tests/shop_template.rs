//! The shop's template loses nothing on AWS: every event that can fail has somewhere to wait
//! for a redrive, AWS may write it there, and someone hears about it. Checked with devstack's
//! own plan (the same checks that stop devstack's start-up), from symbolic names, so no
//! emulator is needed.

// Tests panic to fail.
#![allow(clippy::unwrap_used)]

use std::{collections::HashMap, path::Path};

use devstack::{
    plan::{DeadLetter, Plan, TargetPlan},
    provision::names,
    template::{Attribute, FunctionEvent, Properties, Resolver, ResourceKind, Template},
};
use serde_json::{Value, json};

fn shop() -> Template {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    Template::load(&[path]).unwrap()
}

/// The names provisioning would give every resource, as consistent strings.
fn symbolic(template: &Template) -> Resolver {
    let mut resolver = Resolver::new(
        devstack::REGION,
        devstack::ACCOUNT,
        "shop-audit",
        template
            .parameters
            .iter()
            .map(|(name, default)| (name.clone(), default.clone().unwrap_or_default()))
            .collect::<HashMap<_, _>>(),
    );
    for resource in &template.resources {
        let id = &resource.logical_id;
        let name = format!("shop-audit-{id}");
        let arn = names::arn(&resolver, "service", &name);
        for attribute in [
            Attribute::Ref,
            Attribute::Name,
            Attribute::ProviderName,
            Attribute::ProviderUrl,
        ] {
            resolver.set(id, attribute, name.clone());
        }
        resolver.set(id, Attribute::Arn, arn);
        resolver.set(id, Attribute::StreamArn, format!("{name}/stream"));
        if resource.kind == ResourceKind::SqsQueue {
            let url = format!("https://sqs/{name}");
            resolver.set(id, Attribute::Arn, names::arn(&resolver, "sqs", &name));
            resolver.set(id, Attribute::QueueName, name);
            resolver.set(id, Attribute::QueueUrl, url.clone());
            resolver.set(id, Attribute::Ref, url);
        }
    }
    names::name_rules(template, &mut resolver).unwrap();
    resolver
}

/// Devstack refuses an on-failure destination a function's role may not write to, as AWS
/// refuses the deployment; the plan is where that check runs.
fn plan(template: &Template) -> Plan {
    Plan::new(template, &symbolic(template)).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn every_asynchronously_invoked_function_has_an_on_failure_destination() {
    for function in shop().functions().unwrap() {
        let invoked_by_rules = function
            .events
            .iter()
            .any(|event| matches!(event, FunctionEvent::Rule(_)));
        if invoked_by_rules {
            assert!(
                function.async_invoke.on_failure.is_some(),
                "{}: EventBridge invokes it asynchronously; without EventInvokeConfig.DestinationConfig.OnFailure a failed event is dropped after Lambda's two retries",
                function.logical_id
            );
        }
    }
}

#[test]
fn every_stream_mapping_has_an_on_failure_destination() {
    for function in shop().functions().unwrap() {
        for source in function.stream_sources() {
            assert!(
                source.on_failure.is_some(),
                "{}: records the mapping gives up on would leave no trace",
                source.at
            );
        }
    }
}

#[test]
fn every_rule_target_has_a_dlq_whose_policy_lets_exactly_its_rule_send() {
    for rule in plan(&shop()).rules {
        for target in &rule.targets {
            let TargetPlan::Delivered {
                id, dead_letter, ..
            } = target
            else {
                continue;
            };
            match dead_letter {
                DeadLetter::Queue(_) => {}
                DeadLetter::None => {
                    panic!("{}.{id}: undeliverable events are dropped", rule.source)
                }
                DeadLetter::Refused { why, .. } => panic!("{}.{id}: {why}", rule.source),
            }
        }
    }
}

#[test]
fn every_on_failure_destination_is_writable_by_its_functions_role() {
    // Plan::new fails naming the destination otherwise.
    let plan = plan(&shop());
    assert!(
        plan.functions
            .iter()
            .any(|f| f.async_invoke.on_failure.is_some())
    );
}

#[test]
fn every_failure_queue_has_an_alarm() {
    let template = shop();
    let alarms: Vec<&Value> = template
        .of_kind(ResourceKind::Alarm)
        .filter_map(|alarm| match &alarm.properties {
            Properties::NotEmulated(properties) => Some(properties),
            _ => None,
        })
        .collect();
    let watched = |queue: &str| {
        let dimension = json!({"Fn::GetAtt": [queue, "QueueName"]});
        alarms.iter().any(|alarm| mentions(alarm, &dimension))
    };
    let mut queues = Vec::new();
    for function in template.functions().unwrap() {
        let destinations = function
            .async_invoke
            .on_failure
            .iter()
            .chain(
                function
                    .stream_sources()
                    .filter_map(|s| s.on_failure.as_ref()),
            )
            .map(|d| d.queue.clone());
        let dead_letters = function.events.iter().filter_map(|event| match event {
            FunctionEvent::Rule(rule) => Some(rule.targets.iter().filter_map(|t| match t {
                devstack::template::EventTarget::Function { dead_letter, .. } => {
                    dead_letter.clone()
                }
                _ => None,
            })),
            _ => None,
        });
        queues.extend(destinations);
        queues.extend(dead_letters.flatten());
    }
    assert!(queues.len() > 10, "the shop's failure queues were found");
    for queue in queues {
        let id = template.referenced(&queue).unwrap().logical_id.clone();
        assert!(
            watched(&id),
            "{id} holds failed events but no alarm watches it"
        );
    }
}

fn mentions(value: &Value, wanted: &Value) -> bool {
    value == wanted
        || match value {
            Value::Array(items) => items.iter().any(|item| mentions(item, wanted)),
            Value::Object(map) => map.values().any(|item| mentions(item, wanted)),
            _ => false,
        }
}

/// EventBridge lets whoever may put events choose any `source`; consumers trust an event's
/// type only from its publisher, so each publisher may put only its own.
#[test]
fn every_publisher_may_put_events_only_under_its_own_source() {
    let mut publishers = 0;
    for function in shop().functions().unwrap() {
        let service = function.binary.split('-').next().unwrap();
        let statements = devstack::iam::function_statements(&function.policies, |_| None);
        for statement in statements {
            let actions = match &statement["Action"] {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            if !actions
                .iter()
                .any(|a| a == "events:PutEvents" || a == "events:*")
            {
                continue;
            }
            publishers += 1;
            assert_eq!(
                statement["Condition"]["StringEquals"]["events:source"],
                json!(format!("shop.{service}")),
                "{}: PutEvents without its own events:source condition",
                function.logical_id
            );
        }
    }
    assert_eq!(publishers, 6, "the six publishers were found");
}

/// An alarm nobody hears is a log line: every alarm notifies the alarm topic when it fires and
/// when it clears, and the composite "shop unhealthy" alarm watches every other one.
#[test]
fn every_alarm_reaches_the_alarm_topic_and_the_composite_alarm() {
    let template = shop();
    let topic = json!([{"Ref": "AlarmTopic"}]);
    let composite = template
        .of_kind(ResourceKind::CompositeAlarm)
        .find_map(|alarm| match &alarm.properties {
            Properties::NotEmulated(properties) => Some(properties["AlarmRule"].to_string()),
            _ => None,
        })
        .expect("a composite alarm");
    let alarms: Vec<_> = template
        .resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::Alarm | ResourceKind::CompositeAlarm))
        .collect();
    assert!(alarms.len() > 10);
    for alarm in alarms {
        let Properties::NotEmulated(properties) = &alarm.properties else {
            panic!("{} is read as written", alarm.logical_id);
        };
        for actions in ["AlarmActions", "OKActions"] {
            assert_eq!(properties[actions], topic, "{}.{actions}", alarm.logical_id);
        }
        if alarm.kind == ResourceKind::Alarm {
            assert!(
                composite.contains(&format!("ALARM(${{{}}})", alarm.logical_id)),
                "the composite alarm does not watch {}",
                alarm.logical_id
            );
        }
    }
}

/// The card token key's use, from every function's policies: which function may do what with
/// it, under which condition.
fn card_token_key_grants() -> Vec<(String, String, Value)> {
    let key = json!({"Fn::GetAtt": ["CardTokenKey", "Arn"]});
    let mut grants = Vec::new();
    for function in shop().functions().unwrap() {
        for statement in devstack::iam::function_statements(&function.policies, |_| None) {
            let actions: Vec<String> = match &statement["Action"] {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            for action in actions.into_iter().filter(|a| a.starts_with("kms:")) {
                assert_eq!(
                    statement["Resource"], key,
                    "{}: {action} on anything but the card token key",
                    function.logical_id
                );
                grants.push((
                    function.logical_id.clone(),
                    action,
                    statement["Condition"].clone(),
                ));
            }
        }
    }
    grants.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    grants
}

/// Card tokens are sealed by orders' HTTP function and opened by payments' saga tasks, and by
/// nobody else; both only under exactly an order's encryption context.
#[test]
fn only_orders_http_seals_and_only_payments_tasks_opens_card_tokens() {
    let order_context = json!({
        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["order_id"]},
        "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["order_id"]},
    });
    let expected = [
        ("OrdersHttpFunction", "kms:DescribeKey", Value::Null),
        ("OrdersHttpFunction", "kms:Encrypt", order_context.clone()),
        ("PaymentsTasksFunction", "kms:Decrypt", order_context),
        ("PaymentsTasksFunction", "kms:DescribeKey", Value::Null),
    ]
    .map(|(function, action, condition)| (function.to_owned(), action.to_owned(), condition));
    assert_eq!(card_token_key_grants(), expected);
}

/// The key rotates, and its own policy refuses encryption and decryption without an order's
/// id in the context, whatever an IAM policy grants.
#[test]
fn the_card_token_key_rotates_and_works_only_under_an_orders_context() {
    let template = shop();
    let key = template.resource("CardTokenKey").unwrap();
    let Properties::Key(properties) = &key.properties else {
        panic!("CardTokenKey is a KMS key");
    };
    assert_eq!(properties.enable_key_rotation, Some(true));
    let policy = properties.key_policy.as_ref().unwrap();
    let deny = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Effect"] == "Deny")
        .expect("a deny statement");
    assert_eq!(
        deny["Condition"],
        json!({"Null": {"kms:EncryptionContext:order_id": "true"}})
    );
    for action in ["kms:Encrypt", "kms:Decrypt"] {
        assert!(mentions(&deny["Action"], &json!(action)), "{action}");
    }
}

#[test]
fn every_function_logs_to_its_own_group_kept_for_the_retention_parameter_and_is_traced() {
    let template = shop();
    let plan = plan(&template);
    assert!(plan.functions.len() > 20);
    for function in &plan.functions {
        let group = template
            .resources
            .iter()
            .find(|r| format!("shop-audit-{}", r.logical_id) == function.log_group)
            .unwrap_or_else(|| panic!("{} logs to no group of the template", function.logical_id));
        let Properties::LogGroup(properties) = &group.properties else {
            panic!("{} is not a log group", group.logical_id);
        };
        assert_eq!(
            properties.retention_in_days,
            Some(json!({"Ref": "LogRetentionDays"})),
            "{}",
            group.logical_id
        );
        // Not Lambda's own /aws/lambda/<function>, which a deployed stack already has.
        let name = properties.log_group_name.as_ref().unwrap().to_string();
        assert!(!name.contains("/aws/lambda/"), "{name}");
        assert!(function.traced, "{} is not traced", function.logical_id);
    }
}

#[test]
fn the_saga_logs_every_state_with_its_data_and_is_traced() {
    let template = shop();
    let saga = template
        .of_kind(ResourceKind::StateMachine)
        .find(|r| r.logical_id == "PlaceOrderStateMachine")
        .unwrap();
    let Properties::StateMachine(properties) = &saga.properties else {
        panic!("a state machine");
    };
    let logging = properties.logging.as_ref().unwrap();
    assert_eq!(logging["Level"], "ALL");
    assert_eq!(logging["IncludeExecutionData"], true);
    assert_eq!(
        logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"],
        json!({"Fn::GetAtt": ["PlaceOrderLogs", "Arn"]})
    );
    assert_eq!(properties.tracing.as_ref().unwrap()["Enabled"], true);
}

/// The alarms that watch one AWS/Lambda metric of `function`, by logical id.
fn alarms_on(template: &Template, metric: &str, function: &str) -> Vec<String> {
    let dimension = json!({"Name": "FunctionName", "Value": {"Ref": function}});
    template
        .of_kind(ResourceKind::Alarm)
        .filter(|alarm| match &alarm.properties {
            Properties::NotEmulated(properties) => properties["Metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|query| {
                    let watched = &query["MetricStat"]["Metric"];
                    watched["MetricName"] == metric && mentions(watched, &dimension)
                }),
            _ => false,
        })
        .map(|alarm| alarm.logical_id.clone())
        .collect()
}

#[test]
fn every_function_has_an_errors_and_a_throttles_alarm_and_every_stream_consumer_an_age_alarm() {
    let template = shop();
    let functions = template.functions().unwrap();
    assert!(functions.len() > 20);
    for function in &functions {
        let id = &function.logical_id;
        assert_eq!(alarms_on(&template, "Errors", id).len(), 1, "{id}'s errors");
        assert_eq!(
            alarms_on(&template, "Throttles", id).len(),
            1,
            "{id}'s throttles"
        );
        let reads_a_stream = function.stream_sources().next().is_some();
        assert_eq!(
            alarms_on(&template, "IteratorAge", id).len(),
            usize::from(reads_a_stream),
            "{id}'s iterator age"
        );
    }
}
