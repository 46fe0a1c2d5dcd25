//! SQS queues of the template.

use std::collections::HashMap;

use aws_sdk_sqs::{
    Client, error::SdkError, operation::create_queue::CreateQueueError, types::QueueAttributeName,
};
use serde_json::Value;

use super::{
    ProvisionError,
    names::{arn, physical_name},
};
use crate::template::{
    Attribute, Properties, Resolver, Resource, Template, properties::sqs::QueueProperties,
};

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    let mut queues: Vec<(&Resource, &QueueProperties)> = template
        .resources
        .iter()
        .filter_map(|resource| match &resource.properties {
            Properties::Queue(queue) => Some((resource, queue)),
            _ => None,
        })
        .collect();
    // Queues may name each other as dead-letter targets, so those without a redrive policy go first.
    queues.sort_by_key(|(_, queue)| queue.redrive_policy.is_some());
    for (resource, queue) in queues {
        let name = physical_name(
            resolver,
            &resource.logical_id,
            queue.queue_name.as_ref(),
            &resource.at("QueueName"),
        )?;
        let mut attributes = HashMap::new();
        for (property, attribute, value) in [
            (
                "VisibilityTimeout",
                QueueAttributeName::VisibilityTimeout,
                &queue.visibility_timeout,
            ),
            (
                "MessageRetentionPeriod",
                QueueAttributeName::MessageRetentionPeriod,
                &queue.message_retention_period,
            ),
            (
                "RedrivePolicy",
                QueueAttributeName::RedrivePolicy,
                &queue.redrive_policy,
            ),
        ] {
            if let Some(value) = value {
                let text = match resolver.resolve(value, &resource.at(property))? {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                attributes.insert(attribute, text);
            }
        }
        let url = create_queue(client, &name, attributes)
            .await
            .map_err(ProvisionError::aws(&resource.logical_id, "CreateQueue"))?;
        let id = &resource.logical_id;
        resolver.set(id, Attribute::Arn, arn(resolver, "sqs", &name));
        resolver.set(id, Attribute::QueueName, name);
        resolver.set(id, Attribute::QueueUrl, url.clone());
        resolver.set(id, Attribute::Ref, url);
    }
    Ok(())
}

/// Stores each queue policy on its queues, as AWS does; devstack itself checks them where AWS
/// would (see `plan`).
pub async fn provision_policies(
    template: &Template,
    resolver: &Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::QueuePolicy(policy) = &resource.properties else {
            continue;
        };
        let document = resolver.resolve(&policy.policy_document, &resource.at("PolicyDocument"))?;
        for queue in &policy.queues {
            let url = resolver.resolve_string(queue, &resource.at("Queues"))?;
            client
                .set_queue_attributes()
                .queue_url(url)
                .attributes(QueueAttributeName::Policy, document.to_string())
                .send()
                .await
                .map_err(ProvisionError::aws(
                    &resource.logical_id,
                    "SetQueueAttributes",
                ))?;
        }
    }
    Ok(())
}

/// Creates a queue; returns its URL.
pub async fn create_queue(
    client: &Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> Result<String, SdkError<CreateQueueError>> {
    let output = client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await?;
    Ok(output.queue_url.unwrap_or_default())
}
