//! CloudWatch Logs groups. moto's EventBridge writes rule targets of this kind to the group
//! itself, which is how the bus's event log works locally.

use aws_sdk_cloudwatchlogs::Client;

use super::{
    ProvisionError,
    names::{arn, physical_name},
};
use crate::template::{Attribute, Properties, Resolver, Template};

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::LogGroup(group) = &resource.properties else {
            continue;
        };
        let name = physical_name(
            resolver,
            &resource.logical_id,
            group.log_group_name.as_ref(),
            &resource.at("LogGroupName"),
        )?;
        client
            .create_log_group()
            .log_group_name(&name)
            .send()
            .await
            .map_err(ProvisionError::aws(&resource.logical_id, "CreateLogGroup"))?;
        let id = &resource.logical_id;
        resolver.set(
            id,
            Attribute::Arn,
            arn(resolver, "logs", &format!("log-group:{name}:*")),
        );
        resolver.set(id, Attribute::Ref, name);
    }
    Ok(())
}
