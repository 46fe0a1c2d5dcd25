//! SSM Parameter Store: the stack's endpoints and resource names for people and other stacks
//! (service discovery), created in moto as CloudFormation creates them.

use serde_json::json;

use super::{Clients, ProvisionError, names::physical_name};
use crate::template::{Attribute, Properties, Resolver, Template, TemplateError};

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    clients: &Clients,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::Parameter(parameter) = &resource.properties else {
            continue;
        };
        if !matches!(parameter.kind.as_str(), "String" | "StringList") {
            return Err(TemplateError::unsupported(
                resource.at("Type"),
                format!(
                    "{} (CloudFormation creates String and StringList parameters only)",
                    parameter.kind
                ),
            )
            .into());
        }
        let name = physical_name(
            resolver,
            &resource.logical_id,
            parameter.name.as_ref(),
            &resource.at("Name"),
        )?;
        let value = resolver.resolve_string(&parameter.value, &resource.at("Value"))?;
        // The JSON protocol, as devstack has no SSM SDK client.
        clients
            .http
            .post(&clients.emulator)
            .header("authorization", crate::emulator::scope_header("ssm"))
            .header("x-amz-target", "AmazonSSM.PutParameter")
            .header("content-type", "application/x-amz-json-1.1")
            .body(
                json!({"Name": name, "Value": value, "Type": parameter.kind, "Overwrite": true})
                    .to_string(),
            )
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(ProvisionError::aws(&resource.logical_id, "PutParameter"))?;
        resolver.set(&resource.logical_id, Attribute::Ref, name);
    }
    Ok(())
}
