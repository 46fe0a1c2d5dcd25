//! Names and ARNs as CloudFormation gives them, for resources devstack names itself.

use serde_json::Value;

use crate::template::{Attribute, Properties, Resolver, ResourceKind, Template, TemplateError};

/// EventBridge's limit on rule names.
pub const MAX_RULE_NAME: usize = 64;

/// `arn:aws:<service>:<region>:<account>:<rest>`.
pub fn arn(resolver: &Resolver, service: &str, rest: &str) -> String {
    format!(
        "arn:aws:{service}:{}:{}:{rest}",
        resolver.region(),
        resolver.account()
    )
}

/// The resource's name property resolved, or `<stack>-<logical id>` like CloudFormation.
pub fn physical_name(
    resolver: &Resolver,
    logical_id: &str,
    name: Option<&Value>,
    at: &str,
) -> Result<String, TemplateError> {
    match name {
        None => Ok(format!("{}-{logical_id}", resolver.stack())),
        Some(value) => resolver.resolve_string(value, at),
    }
}

/// Functions and the HTTP API are run by devstack itself, not created on the emulator; they
/// still need names and ARNs for references to resolve.
/// The id of the local HTTP API (`!Ref` of the template's `AWS::Serverless::HttpApi`), under
/// which its metrics are recorded.
pub const API_ID: &str = "local";

pub fn name_functions_and_api(template: &Template, resolver: &mut Resolver) {
    for function in template.of_kind(ResourceKind::Function) {
        let name = format!("{}-{}", resolver.stack(), function.logical_id);
        let function_arn = arn(resolver, "lambda", &format!("function:{name}"));
        resolver.set(&function.logical_id, Attribute::Arn, function_arn);
        resolver.set(&function.logical_id, Attribute::Ref, name);
    }
    if let Some(api) = template.of_kind(ResourceKind::HttpApi).next() {
        resolver.set(&api.logical_id, Attribute::Ref, API_ID);
    }
}

/// Every name and ARN a template can refer to, as provisioning would give them on a stack
/// named `stack`, without provisioning anything: for checks that read resolved properties.
pub fn symbolic(template: &Template, mut resolver: Resolver) -> Result<Resolver, TemplateError> {
    for resource in &template.resources {
        let id = &resource.logical_id;
        let name = format!("{}-{id}", resolver.stack());
        let service = match resource.kind {
            ResourceKind::SqsQueue => "sqs",
            ResourceKind::DynamoDbTable => "dynamodb",
            ResourceKind::Function => "lambda",
            _ => "service",
        };
        let resource_arn = arn(&resolver, service, &name);
        for attribute in [
            Attribute::Name,
            Attribute::QueueName,
            Attribute::TopicName,
            Attribute::ProviderName,
            Attribute::ProviderUrl,
        ] {
            resolver.set(id, attribute, name.clone());
        }
        resolver.set(id, Attribute::Arn, resource_arn.clone());
        resolver.set(id, Attribute::StreamArn, format!("{resource_arn}/stream"));
        resolver.set(id, Attribute::QueueUrl, format!("https://sqs/{name}"));
        let reference = match resource.kind {
            ResourceKind::SqsQueue => format!("https://sqs/{name}"),
            ResourceKind::StateMachine => resource_arn,
            _ => name,
        };
        resolver.set(id, Attribute::Ref, reference);
    }
    name_functions_and_api(template, &mut resolver);
    name_rules(template, &mut resolver)?;
    name_alarms(template, &mut resolver)?;
    Ok(resolver)
}

/// Alarms are evaluated by devstack, not created on the emulator; their names and ARNs are
/// what CloudFormation would give them, for composite alarm rules and dashboards.
pub fn name_alarms(template: &Template, resolver: &mut Resolver) -> Result<(), TemplateError> {
    for alarm in template
        .resources
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::Alarm | ResourceKind::CompositeAlarm))
    {
        let Properties::NotEmulated(properties) = &alarm.properties else {
            continue;
        };
        let name = physical_name(
            resolver,
            &alarm.logical_id,
            properties.get("AlarmName"),
            &alarm.at("AlarmName"),
        )?;
        let alarm_arn = arn(resolver, "cloudwatch", &format!("alarm:{name}"));
        resolver.set(&alarm.logical_id, Attribute::Arn, alarm_arn);
        resolver.set(&alarm.logical_id, Attribute::Ref, name);
    }
    Ok(())
}

/// Rules are created last (their targets are everything else), but queue policies name them
/// (`aws:SourceArn`) before that: their names and ARNs are settled first.
pub fn name_rules(template: &Template, resolver: &mut Resolver) -> Result<(), TemplateError> {
    for rule in template.rules()? {
        let bus = match &rule.bus {
            Some(bus) => resolver.resolve_string(bus, &format!("{}.EventBusName", rule.name))?,
            None => "default".to_owned(),
        };
        let name = truncate(
            &format!("{}-{}", resolver.stack(), rule.name.replace('.', "-")),
            MAX_RULE_NAME,
        );
        let path = if bus == "default" {
            format!("rule/{name}")
        } else {
            format!("rule/{bus}/{name}")
        };
        let rule_arn = arn(resolver, "events", &path);
        resolver.set(&rule.logical_id, Attribute::Arn, rule_arn);
        resolver.set(&rule.logical_id, Attribute::Name, bus);
        resolver.set(&rule.logical_id, Attribute::RuleName, name.clone());
        resolver.set(&rule.logical_id, Attribute::Ref, name);
    }
    Ok(())
}

pub fn truncate(name: &str, max: usize) -> String {
    name.chars().take(max).collect()
}
