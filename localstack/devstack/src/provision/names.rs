//! Names and ARNs as CloudFormation gives them, for resources devstack names itself.

use serde_json::Value;

use crate::template::{Attribute, Resolver, ResourceKind, Template, TemplateError};

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
pub fn name_functions_and_api(template: &Template, resolver: &mut Resolver) {
    for function in template.of_kind(ResourceKind::Function) {
        let name = format!("{}-{}", resolver.stack(), function.logical_id);
        let function_arn = arn(resolver, "lambda", &format!("function:{name}"));
        resolver.set(&function.logical_id, Attribute::Arn, function_arn);
        resolver.set(&function.logical_id, Attribute::Ref, name);
    }
    if let Some(api) = template.of_kind(ResourceKind::HttpApi).next() {
        resolver.set(&api.logical_id, Attribute::Ref, "local");
    }
}
