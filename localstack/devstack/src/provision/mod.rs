//! Creates the template's resources on the emulator, one module per AWS service, in
//! dependency order, recording each one's name and ARNs in the resolver so later references
//! resolve. Then the plan is computed from the template and the resolver, and the rules it
//! names are created last (their targets are everything else).

mod cognito;
pub mod dynamodb;
mod events;
pub mod kms;
mod logs;
pub mod names;
mod sfn;
mod sns;
mod sqs;
mod ssm;

use aws_config::SdkConfig;

pub use aws_sdk_cognitoidentityprovider::Client as CognitoClient;
pub use cognito::AppClient;
pub use events::Delivery;

use crate::{
    plan::Plan,
    template::{Resolver, Template, TemplateError},
};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{resource}: {operation} failed on the emulator")]
    Aws {
        resource: String,
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{resource}: cannot read {path}")]
    Definition {
        resource: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ProvisionError {
    /// A closure for `map_err` that keeps the SDK error as the source.
    fn aws<E>(resource: &str, operation: &'static str) -> impl FnOnce(E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let resource = resource.to_owned();
        move |error| Self::Aws {
            resource,
            operation,
            source: Box::new(error),
        }
    }
}

/// SDK clients for the services devstack provisions.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub kms: aws_sdk_kms::Client,
    /// For the services devstack calls without an SDK client (SNS, CloudWatch).
    pub http: reqwest::Client,
    pub emulator: String,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            http: reqwest::Client::new(),
            emulator: config
                .endpoint_url()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Provisioned {
    pub resolver: Resolver,
    pub plan: Plan,
    /// The rule targets devstack delivers to itself, with their shadow queues.
    pub deliveries: Vec<Delivery>,
    pub app_clients: Vec<AppClient>,
}

pub async fn provision(
    template: &Template,
    mut resolver: Resolver,
    clients: &Clients,
) -> Result<Provisioned, ProvisionError> {
    kms::provision(template, &mut resolver, &clients.kms).await?;
    let app_clients = cognito::provision(template, &mut resolver, &clients.cognito).await?;
    dynamodb::provision(template, &mut resolver, &clients.dynamodb).await?;
    sqs::provision(template, &mut resolver, &clients.sqs).await?;
    events::provision_buses(template, &mut resolver, &clients.events).await?;
    logs::provision(template, &mut resolver, &clients.logs).await?;
    sns::provision(template, &mut resolver, clients).await?;
    names::name_functions_and_api(template, &mut resolver);
    sfn::provision(template, &mut resolver, &clients.sfn).await?;
    events::provision_archives(template, &resolver, &clients.events).await?;
    names::name_rules(template, &mut resolver)?;
    names::name_alarms(template, &mut resolver)?;
    ssm::provision(template, &mut resolver, clients).await?;
    sqs::provision_policies(template, &resolver, &clients.sqs).await?;
    let plan = Plan::new(template, &resolver)?;
    let mut deliveries = Vec::new();
    for rule in &plan.rules {
        deliveries.extend(events::create_rule(rule, &resolver, clients).await?);
    }
    Ok(Provisioned {
        resolver,
        plan,
        deliveries,
        app_clients,
    })
}
