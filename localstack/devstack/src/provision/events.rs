//! EventBridge: buses, archives and rules. moto delivers rule targets only to SQS queues and
//! log groups; a function or state machine target is fed through an SQS shadow queue that
//! devstack drains (`sources::rules`), redriven after the target's attempts to its DLQ.

use std::collections::HashMap;

use aws_sdk_eventbridge::{Client, types::Target};
use aws_sdk_sqs::types::QueueAttributeName;

use super::{
    Clients, ProvisionError,
    names::{arn, physical_name},
    sqs::create_queue,
};
use crate::{
    plan::{DeadLetter, DeliveryTarget, RulePlan, TargetPlan},
    template::{Attribute, Properties, Resolver, Template},
};

/// A rule target devstack delivers to itself: the rule feeds `queue_url`, devstack reads it
/// and invokes the target; after the target's attempts SQS moves the event to the DLQ, or,
/// without one EventBridge may use, devstack drops it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub rule: String,
    /// The rule's physical name and bus, the dimensions of EventBridge's metrics.
    pub rule_name: String,
    pub bus: String,
    pub queue_url: String,
    pub target: DeliveryTarget,
    pub max_attempts: u32,
    pub dead_letter: DeadLetter,
}

pub async fn provision_buses(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::EventBus(bus) = &resource.properties else {
            continue;
        };
        let name = physical_name(
            resolver,
            &resource.logical_id,
            Some(&bus.name),
            &resource.at("Name"),
        )?;
        client
            .create_event_bus()
            .name(&name)
            .send()
            .await
            .map_err(ProvisionError::aws(&resource.logical_id, "CreateEventBus"))?;
        let id = &resource.logical_id;
        resolver.set(
            id,
            Attribute::Arn,
            arn(resolver, "events", &format!("event-bus/{name}")),
        );
        resolver.set(id, Attribute::Name, name.clone());
        resolver.set(id, Attribute::Ref, name);
    }
    Ok(())
}

pub async fn provision_archives(
    template: &Template,
    resolver: &Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::Archive(archive) = &resource.properties else {
            continue;
        };
        let source = resolver.resolve_string(&archive.source_arn, &resource.at("SourceArn"))?;
        client
            .create_archive()
            .archive_name(format!("{}-{}", resolver.stack(), resource.logical_id))
            .event_source_arn(source)
            .set_retention_days(archive.retention_days)
            .send()
            .await
            .map_err(ProvisionError::aws(&resource.logical_id, "CreateArchive"))?;
    }
    Ok(())
}

/// Creates one planned rule and its targets; returns the deliveries devstack runs.
pub async fn create_rule(
    rule: &RulePlan,
    resolver: &Resolver,
    clients: &Clients,
) -> Result<Vec<Delivery>, ProvisionError> {
    clients
        .events
        .put_rule()
        .name(&rule.name)
        .event_bus_name(&rule.bus)
        .event_pattern(&rule.pattern)
        .send()
        .await
        .map_err(ProvisionError::aws(&rule.source, "PutRule"))?;

    let mut deliveries = Vec::new();
    for target in &rule.targets {
        let (id, target_arn) = match target {
            TargetPlan::Native { id, arn } => (id, arn.clone()),
            TargetPlan::Delivered {
                id,
                shadow_queue,
                max_attempts,
                dead_letter,
                target,
            } => {
                let mut attributes =
                    HashMap::from([(QueueAttributeName::VisibilityTimeout, "30".to_owned())]);
                // SQS moves an event to the DLQ after the target's attempts; without a DLQ
                // that EventBridge may write to, devstack drops it itself (`sources::rules`).
                if let DeadLetter::Queue(arn) = dead_letter {
                    let redrive = serde_json::json!({
                        "deadLetterTargetArn": arn,
                        "maxReceiveCount": max_attempts,
                    });
                    attributes.insert(QueueAttributeName::RedrivePolicy, redrive.to_string());
                }
                let queue_url = create_queue(&clients.sqs, shadow_queue, attributes)
                    .await
                    .map_err(ProvisionError::aws(&rule.source, "CreateQueue"))?;
                deliveries.push(Delivery {
                    rule: rule.source.clone(),
                    rule_name: rule.name.clone(),
                    bus: rule.bus.clone(),
                    queue_url,
                    target: target.clone(),
                    max_attempts: *max_attempts,
                    dead_letter: dead_letter.clone(),
                });
                (id, arn(resolver, "sqs", shadow_queue))
            }
        };
        let target = Target::builder()
            .id(id)
            .arn(target_arn)
            .build()
            .map_err(ProvisionError::aws(&rule.source, "PutTargets"))?;
        clients
            .events
            .put_targets()
            .rule(&rule.name)
            .event_bus_name(&rule.bus)
            .targets(target)
            .send()
            .await
            .map_err(ProvisionError::aws(&rule.source, "PutTargets"))?;
    }
    Ok(deliveries)
}
