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
