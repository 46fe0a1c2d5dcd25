//! Cognito: user pools, app clients and groups.

use aws_sdk_cognitoidentityprovider::{
    Client,
    types::{
        AttributeDataType, ExplicitAuthFlowsType, PasswordPolicyType, SchemaAttributeType,
        UserPoolPolicyType, UsernameAttributeType, VerifiedAttributeType,
    },
};

use super::{ProvisionError, names::physical_name};
use crate::template::{
    Attribute, Properties, Resolver, Resource, Template,
    properties::cognito::{UserPoolClientProperties, UserPoolGroupProperties, UserPoolProperties},
};

/// An app client as created, with what the edge needs to apply Cognito's client rules.
#[derive(Debug, Clone)]
pub struct AppClient {
    pub id: String,
    pub explicit_auth_flows: Vec<String>,
    pub secret: Option<String>,
}

/// Creates the pools, their app clients and groups; returns the app clients.
pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<Vec<AppClient>, ProvisionError> {
    // Pools first: clients and groups name their pool.
    for resource in &template.resources {
        if let Properties::UserPool(pool) = &resource.properties {
            create_user_pool(client, resource, pool, resolver).await?;
        }
    }
    let mut app_clients = Vec::new();
    for resource in &template.resources {
        match &resource.properties {
            Properties::UserPoolClient(app) => {
                app_clients.push(create_app_client(client, resource, app, resolver).await?);
            }
            Properties::UserPoolGroup(group) => {
                create_group(client, resource, group, resolver).await?;
            }
            _ => {}
        }
    }
    Ok(app_clients)
}

async fn create_user_pool(
    client: &Client,
    resource: &Resource,
    pool: &UserPoolProperties,
    resolver: &mut Resolver,
) -> Result<(), ProvisionError> {
    let mut policies = UserPoolPolicyType::builder();
    if let Some(policy) = pool
        .policies
        .as_ref()
        .and_then(|p| p.password_policy.as_ref())
    {
        let minimum_length = match &policy.minimum_length {
            Some(value) => {
                let at = resource.at("Policies.PasswordPolicy.MinimumLength");
                let text = resolver.resolve_string(value, &at)?;
                Some(text.parse::<i32>().map_err(|_| {
                    crate::template::TemplateError::unsupported(
                        at,
                        format!("{text} is not a number"),
                    )
                })?)
            }
            None => None,
        };
        policies = policies.password_policy(
            PasswordPolicyType::builder()
                .set_minimum_length(minimum_length)
                .set_require_lowercase(policy.require_lowercase)
                .set_require_uppercase(policy.require_uppercase)
                .set_require_numbers(policy.require_numbers)
                .set_require_symbols(policy.require_symbols)
                .build(),
        );
    }
    let schema = pool
        .schema
        .iter()
        .map(|attribute| {
            SchemaAttributeType::builder()
                .name(&attribute.name)
                .attribute_data_type(AttributeDataType::from(
                    attribute.attribute_data_type.as_str(),
                ))
                .set_required(attribute.required)
                .set_mutable(attribute.mutable)
                .build()
        })
        .collect();
    let name = physical_name(
        resolver,
        &resource.logical_id,
        pool.user_pool_name.as_ref(),
        &resource.at("UserPoolName"),
    )?;
    let output = client
        .create_user_pool()
        .pool_name(&name)
        .policies(policies.build())
        .set_username_attributes(Some(
            pool.username_attributes
                .iter()
                .map(|a| UsernameAttributeType::from(a.as_str()))
                .collect(),
        ))
        .set_auto_verified_attributes(Some(
            pool.auto_verified_attributes
                .iter()
                .map(|a| VerifiedAttributeType::from(a.as_str()))
                .collect(),
        ))
        .set_schema(Some(schema))
        .send()
        .await
        .map_err(ProvisionError::aws(&resource.logical_id, "CreateUserPool"))?;
    let created = output.user_pool;
    let id = created
        .as_ref()
        .and_then(|p| p.id.clone())
        .unwrap_or_default();
    let region = resolver.region().to_owned();
    let id_ref = &resource.logical_id;
    resolver.set(
        id_ref,
        Attribute::Arn,
        created.and_then(|p| p.arn).unwrap_or_default(),
    );
    resolver.set(
        id_ref,
        Attribute::ProviderName,
        format!("cognito-idp.{region}.amazonaws.com/{id}"),
    );
    resolver.set(
        id_ref,
        Attribute::ProviderUrl,
        format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
    );
    resolver.set(id_ref, Attribute::Ref, id);
    Ok(())
}

async fn create_app_client(
    client: &Client,
    resource: &Resource,
    app: &UserPoolClientProperties,
    resolver: &mut Resolver,
) -> Result<AppClient, ProvisionError> {
    let pool_id = resolver.resolve_string(&app.user_pool_id, &resource.at("UserPoolId"))?;
    let name = physical_name(
        resolver,
        &resource.logical_id,
        app.client_name.as_ref(),
        &resource.at("ClientName"),
    )?;
    let output = client
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name(name)
        .generate_secret(app.generate_secret.unwrap_or(false))
        .set_explicit_auth_flows(Some(
            app.explicit_auth_flows
                .iter()
                .map(|flow| ExplicitAuthFlowsType::from(flow.as_str()))
                .collect(),
        ))
        .send()
        .await
        .map_err(ProvisionError::aws(
            &resource.logical_id,
            "CreateUserPoolClient",
        ))?;
    let created = output.user_pool_client;
    let id = created
        .as_ref()
        .and_then(|c| c.client_id.clone())
        .unwrap_or_default();
    resolver.set(&resource.logical_id, Attribute::Ref, id.clone());
    Ok(AppClient {
        id,
        explicit_auth_flows: app.explicit_auth_flows.clone(),
        secret: created.and_then(|c| c.client_secret),
    })
}

async fn create_group(
    client: &Client,
    resource: &Resource,
    group: &UserPoolGroupProperties,
    resolver: &mut Resolver,
) -> Result<(), ProvisionError> {
    let pool_id = resolver.resolve_string(&group.user_pool_id, &resource.at("UserPoolId"))?;
    let name = resolver.resolve_string(&group.group_name, &resource.at("GroupName"))?;
    client
        .create_group()
        .user_pool_id(pool_id)
        .group_name(&name)
        .set_description(group.description.clone())
        .send()
        .await
        .map_err(ProvisionError::aws(&resource.logical_id, "CreateGroup"))?;
    resolver.set(&resource.logical_id, Attribute::Ref, name);
    Ok(())
}
