//! The whole template provisioned on the emulator by devstack's provisioner, under names of
//! its own, for integration tests that need several of a service's resources together.

use std::collections::HashMap;

use aws_config::SdkConfig;
use devstack::{
    provision::{self, Clients},
    template::{Attribute, Resolver, Template},
};

/// Provisions `infra/template.yaml` with a unique stack name and stage (so tests in parallel
/// share nothing) and the given parameter overrides; the resolver names every resource.
pub async fn provision(config: &SdkConfig, parameters: &[(&str, &str)]) -> Resolver {
    let template = Template::load(&[crate::workspace_root().join("infra/template.yaml")])
        .expect("infra/template.yaml loads");
    let stack = crate::unique_name("test");
    let mut values: HashMap<String, String> = template
        .parameters
        .iter()
        .filter_map(|(name, default)| default.clone().map(|d| (name.clone(), d)))
        .collect();
    values.insert("Stage".to_owned(), stack.clone());
    for (name, value) in parameters {
        values.insert((*name).to_owned(), (*value).to_owned());
    }
    let resolver = Resolver::new(crate::moto::REGION, devstack::ACCOUNT, &stack, values);
    provision::provision(&template, resolver, &Clients::new(config))
        .await
        .expect("the template provisions")
        .resolver
}

/// The name (or id, for Cognito) of a provisioned resource.
pub fn name(resolver: &Resolver, logical_id: &str) -> String {
    resolver
        .get(logical_id, Attribute::Ref)
        .unwrap_or_else(|| panic!("{logical_id} was not provisioned"))
        .to_owned()
}
