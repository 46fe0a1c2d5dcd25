//! Step Functions state machines, with their definition substitutions applied.

use aws_sdk_sfn::{Client, types::StateMachineType};

use super::ProvisionError;
use crate::template::{Attribute, Resolver, StateMachine, Template, TemplateError};

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for machine in template.state_machines()? {
        let mut definition =
            std::fs::read_to_string(&machine.definition_path).map_err(|source| {
                ProvisionError::Definition {
                    resource: machine.logical_id.clone(),
                    path: machine.definition_path.display().to_string(),
                    source,
                }
            })?;
        for (key, value) in &machine.substitutions {
            let at = format!(
                "{}.Properties.DefinitionSubstitutions.{key}",
                machine.logical_id
            );
            definition = definition.replace(
                &format!("${{{key}}}"),
                &resolver.resolve_string(value, &at)?,
            );
        }
        let kind = workflow_type(&machine, resolver)?;
        let name = format!("{}-{}", resolver.stack(), machine.logical_id);
        let output = client
            .create_state_machine()
            .name(&name)
            .definition(definition)
            // moto checks no IAM; the state machine's policies are not enforced locally.
            .role_arn(format!("arn:aws:iam::{}:role/devstack", resolver.account()))
            .r#type(kind)
            .send()
            .await
            .map_err(ProvisionError::aws(
                &machine.logical_id,
                "CreateStateMachine",
            ))?;
        let id = &machine.logical_id;
        resolver.set(id, Attribute::Arn, output.state_machine_arn.clone());
        resolver.set(id, Attribute::Name, name);
        resolver.set(id, Attribute::Ref, output.state_machine_arn);
    }
    Ok(())
}

/// The machine's workflow type, resolved: Step Functions takes `STANDARD` (the default) or
/// `EXPRESS` and refuses anything else at creation, as devstack does here.
fn workflow_type(
    machine: &StateMachine,
    resolver: &Resolver,
) -> Result<StateMachineType, ProvisionError> {
    let Some(kind) = &machine.kind else {
        return Ok(StateMachineType::Standard);
    };
    let at = format!("{}.Properties.Type", machine.logical_id);
    match resolver.resolve_string(kind, &at)?.as_str() {
        "STANDARD" => Ok(StateMachineType::Standard),
        "EXPRESS" => Ok(StateMachineType::Express),
        other => Err(TemplateError::unsupported(
            at,
            format!("{other} is not a workflow type (STANDARD or EXPRESS)"),
        )
        .into()),
    }
}
