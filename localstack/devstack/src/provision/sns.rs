//! SNS: the topics alarms notify. devstack publishes alarm state changes to them, and moto
//! delivers to their SQS subscriptions (a test's, or a developer's).

use super::{Clients, ProvisionError, names::physical_name};
use crate::template::{Attribute, Properties, Resolver, Template};

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    clients: &Clients,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::Topic(topic) = &resource.properties else {
            continue;
        };
        let name = physical_name(
            resolver,
            &resource.logical_id,
            topic.topic_name.as_ref(),
            &resource.at("TopicName"),
        )?;
        // The query protocol, as devstack has no SNS SDK client; the ARN is SNS's own shape.
        clients
            .http
            .post(&clients.emulator)
            .header("authorization", crate::emulator::scope_header("sns"))
            .form(&[
                ("Action", "CreateTopic"),
                ("Version", "2010-03-31"),
                ("Name", &name),
            ])
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(ProvisionError::aws(&resource.logical_id, "CreateTopic"))?;
        let arn = super::names::arn(resolver, "sns", &name);
        resolver.set(&resource.logical_id, Attribute::TopicName, name);
        resolver.set(&resource.logical_id, Attribute::Ref, arn);
    }
    Ok(())
}
