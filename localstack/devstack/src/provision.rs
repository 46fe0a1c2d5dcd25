//! Creates the template's resources on the emulator, in dependency order, recording each
//! one's name and ARNs in the resolver so later references resolve.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, ExplicitAuthFlowsType, PasswordPolicyType, SchemaAttributeType,
    UserPoolPolicyType, UsernameAttributeType, VerifiedAttributeType,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use crate::template::{EventTarget, Resolver, Resource, RuleSpec, Template, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{resource}: {message}")]
    Aws { resource: String, message: String },
    #[error("{resource}: cannot read {path}: {source}")]
    Definition {
        resource: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ProvisionError {
    fn aws(resource: &str, error: impl std::error::Error) -> Self {
        Self::Aws {
            resource: resource.to_owned(),
            message: aws_sdk_sqs::error::DisplayErrorContext(error).to_string(),
        }
    }
}

pub use aws_sdk_cognitoidentityprovider::Client as CognitoClient;

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
        }
    }
}

/// A rule target devstack delivers to itself: the rule feeds `queue_url`, devstack reads it
/// and invokes the target; after `max_attempts` receives SQS moves the event to the DLQ.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub rule: String,
    pub queue_url: String,
    pub target: DeliveryTarget,
}

#[derive(Debug, Clone)]
pub enum DeliveryTarget {
    /// A function, by logical id.
    Function(String),
    /// A state machine, by ARN.
    StateMachine(String),
}

#[derive(Debug)]
pub struct Provisioned {
    pub resolver: Resolver,
    pub deliveries: Vec<Delivery>,
    /// Template parts that have no local effect (alarms, resource policies), said out loud.
    pub notes: Vec<String>,
}

pub async fn provision(
    template: &Template,
    resolver: Resolver,
    clients: &Clients,
) -> Result<Provisioned, ProvisionError> {
    let mut provisioner = Provisioner {
        template,
        resolver,
        clients,
    };
    provisioner.identity().await?;
    provisioner.tables().await?;
    provisioner.queues().await?;
    provisioner.buses_and_logs().await?;
    provisioner.name_functions_and_api();
    provisioner.state_machines().await?;
    provisioner.archives().await?;
    let mut deliveries = Vec::new();
    for rule in template.rules()? {
        deliveries.extend(create_rule(&rule, &provisioner.resolver, clients).await?);
    }
    Ok(Provisioned {
        notes: not_emulated(template),
        resolver: provisioner.resolver,
        deliveries,
    })
}

/// Template parts with no local effect, named so nothing is skipped silently.
fn not_emulated(template: &Template) -> Vec<String> {
    let mut notes: Vec<String> = template
        .resources
        .iter()
        .filter_map(|resource| {
            let note = match resource.kind.as_str() {
                "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::Dashboard" => {
                    "CloudWatch alarms and dashboards"
                }
                "AWS::Logs::ResourcePolicy" => "resource policies (the emulator enforces no IAM)",
                _ => return None,
            };
            Some(format!(
                "{} ({}): not emulated: {note}",
                resource.logical_id, resource.kind
            ))
        })
        .collect();
    notes.push("IAM policies of functions are not enforced locally".to_owned());
    notes
}

struct Provisioner<'a> {
    template: &'a Template,
    resolver: Resolver,
    clients: &'a Clients,
}

impl Provisioner<'_> {
    fn arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{rest}",
            self.resolver.region(),
            self.resolver.account()
        )
    }

    async fn identity(&mut self) -> Result<(), ProvisionError> {
        let (template, clients) = (self.template, self.clients);
        let resolver = &mut self.resolver;
        for pool in template.of_kind("AWS::Cognito::UserPool") {
            create_user_pool(clients, pool, resolver).await?;
        }
        for client in template.of_kind("AWS::Cognito::UserPoolClient") {
            let pool_id =
                resolver.resolve_string(client.prop("UserPoolId"), &client.at("UserPoolId"))?;
            let flows = client
                .prop("ExplicitAuthFlows")
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(ExplicitAuthFlowsType::from)
                .collect();
            let output = clients
                .cognito
                .create_user_pool_client()
                .user_pool_id(&pool_id)
                .client_name(physical_name(resolver, client, "ClientName")?)
                .generate_secret(client.prop("GenerateSecret").as_bool().unwrap_or(false))
                .set_explicit_auth_flows(Some(flows))
                .send()
                .await
                .map_err(|e| ProvisionError::aws(&client.logical_id, e))?;
            let id = output
                .user_pool_client
                .and_then(|c| c.client_id)
                .unwrap_or_default();
            resolver.set(&client.logical_id, "Ref", id);
        }
        for group in template.of_kind("AWS::Cognito::UserPoolGroup") {
            let pool_id =
                resolver.resolve_string(group.prop("UserPoolId"), &group.at("UserPoolId"))?;
            let name = resolver.resolve_string(group.prop("GroupName"), &group.at("GroupName"))?;
            clients
                .cognito
                .create_group()
                .user_pool_id(pool_id)
                .group_name(&name)
                .set_description(group.prop("Description").as_str().map(str::to_owned))
                .send()
                .await
                .map_err(|e| ProvisionError::aws(&group.logical_id, e))?;
            resolver.set(&group.logical_id, "Ref", name);
        }
        Ok(())
    }

    async fn tables(&mut self) -> Result<(), ProvisionError> {
        for table in self.template.of_kind("AWS::DynamoDB::Table") {
            let name = physical_name(&self.resolver, table, "TableName")?;
            let props = self.resolver.resolve(&table.properties, &table.at(""))?;
            let stream_arn = create_table(&self.clients.dynamodb, &props, &name)
                .await
                .map_err(|e| ProvisionError::aws(&table.logical_id, e))?;
            self.resolver.set(
                &table.logical_id,
                "Arn",
                self.arn("dynamodb", &format!("table/{name}")),
            );
            if let Some(stream_arn) = stream_arn {
                self.resolver
                    .set(&table.logical_id, "StreamArn", stream_arn);
            }
            self.resolver.set(&table.logical_id, "Ref", name);
        }
        Ok(())
    }

    async fn queues(&mut self) -> Result<(), ProvisionError> {
        // Queues may name each other as dead-letter targets, so those without a redrive policy go first.
        let mut queues: Vec<&Resource> = self.template.of_kind("AWS::SQS::Queue").collect();
        queues.sort_by_key(|q| !q.prop("RedrivePolicy").is_null());
        for queue in queues {
            let name = physical_name(&self.resolver, queue, "QueueName")?;
            let mut attributes = HashMap::new();
            for (property, attribute) in [
                ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
                (
                    "MessageRetentionPeriod",
                    QueueAttributeName::MessageRetentionPeriod,
                ),
                ("RedrivePolicy", QueueAttributeName::RedrivePolicy),
            ] {
                let value = queue.prop(property);
                if !value.is_null() {
                    let resolved = self.resolver.resolve(value, &queue.at(property))?;
                    let text = resolved
                        .as_str()
                        .map_or_else(|| resolved.to_string(), str::to_owned);
                    attributes.insert(attribute, text);
                }
            }
            let url = create_queue(&self.clients.sqs, &name, attributes)
                .await
                .map_err(|e| ProvisionError::aws(&queue.logical_id, e))?;
            self.resolver
                .set(&queue.logical_id, "Arn", self.arn("sqs", &name));
            self.resolver.set(&queue.logical_id, "QueueName", name);
            self.resolver
                .set(&queue.logical_id, "QueueUrl", url.clone());
            self.resolver.set(&queue.logical_id, "Ref", url);
        }
        Ok(())
    }

    async fn buses_and_logs(&mut self) -> Result<(), ProvisionError> {
        for bus in self.template.of_kind("AWS::Events::EventBus") {
            let name = physical_name(&self.resolver, bus, "Name")?;
            self.clients
                .events
                .create_event_bus()
                .name(&name)
                .send()
                .await
                .map_err(|e| ProvisionError::aws(&bus.logical_id, e))?;
            self.resolver.set(
                &bus.logical_id,
                "Arn",
                self.arn("events", &format!("event-bus/{name}")),
            );
            self.resolver.set(&bus.logical_id, "Name", name.clone());
            self.resolver.set(&bus.logical_id, "Ref", name);
        }

        for group in self.template.of_kind("AWS::Logs::LogGroup") {
            // moto's EventBridge writes rule targets of this kind to the group itself.
            let name = physical_name(&self.resolver, group, "LogGroupName")?;
            self.clients
                .logs
                .create_log_group()
                .log_group_name(&name)
                .send()
                .await
                .map_err(|e| ProvisionError::aws(&group.logical_id, e))?;
            self.resolver.set(
                &group.logical_id,
                "Arn",
                self.arn("logs", &format!("log-group:{name}:*")),
            );
            self.resolver.set(&group.logical_id, "Ref", name);
        }
        Ok(())
    }

    fn name_functions_and_api(&mut self) {
        for function in self.template.of_kind("AWS::Serverless::Function") {
            let name = format!("{}-{}", self.resolver.stack(), function.logical_id);
            self.resolver.set(
                &function.logical_id,
                "Arn",
                self.arn("lambda", &format!("function:{name}")),
            );
            self.resolver.set(&function.logical_id, "Ref", name);
        }
        if let Some(api) = self.template.of_kind("AWS::Serverless::HttpApi").next() {
            self.resolver.set(&api.logical_id, "Ref", "local");
        }
    }

    async fn state_machines(&mut self) -> Result<(), ProvisionError> {
        for machine in self.template.state_machines()? {
            let text = std::fs::read_to_string(&machine.definition_path).map_err(|source| {
                ProvisionError::Definition {
                    resource: machine.logical_id.clone(),
                    path: machine.definition_path.display().to_string(),
                    source,
                }
            })?;
            let mut definition = text;
            for (key, value) in &machine.substitutions {
                let at = format!(
                    "{}.Properties.DefinitionSubstitutions.{key}",
                    machine.logical_id
                );
                definition = definition.replace(
                    &format!("${{{key}}}"),
                    &self.resolver.resolve_string(value, &at)?,
                );
            }
            let name = format!("{}-{}", self.resolver.stack(), machine.logical_id);
            let output = self
                .clients
                .sfn
                .create_state_machine()
                .name(&name)
                .definition(definition)
                .role_arn(format!(
                    "arn:aws:iam::{}:role/devstack",
                    self.resolver.account()
                ))
                .r#type(if machine.express {
                    aws_sdk_sfn::types::StateMachineType::Express
                } else {
                    aws_sdk_sfn::types::StateMachineType::Standard
                })
                .send()
                .await
                .map_err(|e| ProvisionError::aws(&machine.logical_id, e))?;
            self.resolver
                .set(&machine.logical_id, "Arn", output.state_machine_arn.clone());
            self.resolver.set(&machine.logical_id, "Name", name);
            self.resolver
                .set(&machine.logical_id, "Ref", output.state_machine_arn);
        }
        Ok(())
    }

    async fn archives(&mut self) -> Result<(), ProvisionError> {
        for archive in self.template.of_kind("AWS::Events::Archive") {
            let source = self
                .resolver
                .resolve_string(archive.prop("SourceArn"), &archive.at("SourceArn"))?;
            self.clients
                .events
                .create_archive()
                .archive_name(format!("{}-{}", self.resolver.stack(), archive.logical_id))
                .event_source_arn(source)
                .set_retention_days(
                    archive
                        .prop("RetentionDays")
                        .as_i64()
                        .and_then(|d| i32::try_from(d).ok()),
                )
                .send()
                .await
                .map_err(|e| ProvisionError::aws(&archive.logical_id, e))?;
        }
        Ok(())
    }
}

/// The resource's name property resolved, or `<stack>-<logical id>` like CloudFormation.
fn physical_name(
    resolver: &Resolver,
    resource: &Resource,
    property: &str,
) -> Result<String, TemplateError> {
    match resource.prop(property) {
        Value::Null => Ok(format!("{}-{}", resolver.stack(), resource.logical_id)),
        value => resolver.resolve_string(value, &resource.at(property)),
    }
}

async fn create_user_pool(
    clients: &Clients,
    pool: &Resource,
    resolver: &mut Resolver,
) -> Result<(), ProvisionError> {
    let props = resolver.resolve(&pool.properties, &pool.at(""))?;
    let policy = &props["Policies"]["PasswordPolicy"];
    let password_policy = PasswordPolicyType::builder()
        .set_minimum_length(
            policy["MinimumLength"]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok()),
        )
        .set_require_lowercase(policy["RequireLowercase"].as_bool())
        .set_require_uppercase(policy["RequireUppercase"].as_bool())
        .set_require_numbers(policy["RequireNumbers"].as_bool())
        .set_require_symbols(policy["RequireSymbols"].as_bool())
        .build();
    let strings = |key: &str| -> Vec<String> {
        props[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let schema = props["Schema"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|attribute| {
            SchemaAttributeType::builder()
                .set_name(attribute["Name"].as_str().map(str::to_owned))
                .set_attribute_data_type(
                    attribute["AttributeDataType"]
                        .as_str()
                        .map(AttributeDataType::from),
                )
                .set_required(attribute["Required"].as_bool())
                .set_mutable(attribute["Mutable"].as_bool())
                .build()
        })
        .collect();
    let name = physical_name(resolver, pool, "UserPoolName")?;
    let output = clients
        .cognito
        .create_user_pool()
        .pool_name(&name)
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(password_policy)
                .build(),
        )
        .set_username_attributes(Some(
            strings("UsernameAttributes")
                .iter()
                .map(|a| UsernameAttributeType::from(a.as_str()))
                .collect(),
        ))
        .set_auto_verified_attributes(Some(
            strings("AutoVerifiedAttributes")
                .iter()
                .map(|a| VerifiedAttributeType::from(a.as_str()))
                .collect(),
        ))
        .set_schema(Some(schema))
        .send()
        .await
        .map_err(|e| ProvisionError::aws(&pool.logical_id, e))?;
    let user_pool = output.user_pool;
    let id = user_pool
        .as_ref()
        .and_then(|p| p.id.clone())
        .unwrap_or_default();
    let arn = user_pool.and_then(|p| p.arn).unwrap_or_default();
    let region = resolver.region().to_owned();
    resolver.set(&pool.logical_id, "Arn", arn);
    resolver.set(
        &pool.logical_id,
        "ProviderName",
        format!("cognito-idp.{region}.amazonaws.com/{id}"),
    );
    resolver.set(
        &pool.logical_id,
        "ProviderURL",
        format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
    );
    resolver.set(&pool.logical_id, "Ref", id);
    Ok(())
}

/// Creates a table from its resolved CloudFormation properties, under `name`; returns the
/// stream ARN when the table has a stream. Only what shapes behaviour is read: keys, indexes
/// and the stream (billing, encryption and backups have no local effect).
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    props: &Value,
    name: &str,
) -> Result<Option<String>, aws_sdk_dynamodb::Error> {
    let strings = |value: &Value, key: &str| value[key].as_str().unwrap_or_default().to_owned();
    let key_schema = |value: &Value| -> Vec<KeySchemaElement> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| {
                KeySchemaElement::builder()
                    .attribute_name(strings(k, "AttributeName"))
                    .key_type(KeyType::from(strings(k, "KeyType").as_str()))
                    .build()
                    .ok()
            })
            .collect()
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&props["KeySchema"])))
        .set_attribute_definitions(Some(
            props["AttributeDefinitions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    AttributeDefinition::builder()
                        .attribute_name(strings(a, "AttributeName"))
                        .attribute_type(ScalarAttributeType::from(
                            strings(a, "AttributeType").as_str(),
                        ))
                        .build()
                        .ok()
                })
                .collect(),
        ));
    for index in props["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(
                index["Projection"]["ProjectionType"]
                    .as_str()
                    .unwrap_or("ALL"),
            ))
            .set_non_key_attributes(index["Projection"]["NonKeyAttributes"].as_array().map(
                |attrs| {
                    attrs
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                },
            ))
            .build();
        if let Ok(index) = GlobalSecondaryIndex::builder()
            .index_name(strings(index, "IndexName"))
            .set_key_schema(Some(key_schema(&index["KeySchema"])))
            .projection(projection)
            .build()
        {
            request = request.global_secondary_indexes(index);
        }
    }
    if let Some(view) = props["StreamSpecification"]["StreamViewType"].as_str() {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()?,
        );
    }
    let output = request.send().await?;
    Ok(output
        .table_description()
        .and_then(|table| table.latest_stream_arn())
        .map(str::to_owned))
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> Result<String, aws_sdk_sqs::Error> {
    let output = sqs
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await?;
    Ok(output.queue_url.unwrap_or_default())
}

/// Creates one rule. Targets the emulator delivers to (queues, log groups) are set directly;
/// function and state machine targets get an SQS shadow queue that devstack drains, with
/// a redrive policy to the target's DLQ (or a devstack one, so nothing is dropped locally).
async fn create_rule(
    rule: &RuleSpec,
    resolver: &Resolver,
    clients: &Clients,
) -> Result<Vec<Delivery>, ProvisionError> {
    let bus = match &rule.bus {
        Some(bus) => resolver.resolve_string(bus, &format!("{}.EventBus", rule.name))?,
        None => "default".to_owned(),
    };
    let rule_name = truncate(
        &format!("{}-{}", resolver.stack(), rule.name.replace('.', "-")),
        64,
    );
    let pattern = resolver.resolve(&rule.pattern, &format!("{}.Pattern", rule.name))?;
    clients
        .events
        .put_rule()
        .name(&rule_name)
        .event_bus_name(&bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .map_err(|e| ProvisionError::aws(&rule.name, e))?;

    let mut deliveries = Vec::new();
    for target in &rule.targets {
        let (id, arn) = match target {
            EventTarget::Native { id, arn } => {
                let arn = resolver.resolve_string(arn, &format!("{}.Targets.{id}", rule.name))?;
                (id, native_target_arn(arn))
            }
            EventTarget::Function {
                id,
                function: owner,
                max_attempts,
                dead_letter,
            }
            | EventTarget::StateMachine {
                id,
                state_machine: owner,
                max_attempts,
                dead_letter,
            } => {
                let shadow = format!("{rule_name}-{id}");
                let dead_letter = match dead_letter {
                    Some(arn) => Some(
                        resolver.resolve_string(arn, &format!("{}.DeadLetterConfig", rule.name))?,
                    ),
                    None => None,
                };
                let (queue_url, queue_arn) =
                    shadow_queue(&shadow, *max_attempts, dead_letter, resolver, clients)
                        .await
                        .map_err(|e| ProvisionError::aws(&rule.name, e))?;
                let target = if matches!(target, EventTarget::Function { .. }) {
                    DeliveryTarget::Function(owner.clone())
                } else {
                    let arn = resolver.get(owner, "Arn").ok_or_else(|| {
                        TemplateError::unsupported(&rule.name, format!("no state machine {owner}"))
                    })?;
                    DeliveryTarget::StateMachine(arn.to_owned())
                };
                deliveries.push(Delivery {
                    rule: rule.name.clone(),
                    queue_url,
                    target,
                });
                (id, queue_arn)
            }
        };
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id(id)
            .arn(arn)
            .build()
            .map_err(|e| ProvisionError::aws(&rule.name, e))?;
        clients
            .events
            .put_targets()
            .rule(&rule_name)
            .event_bus_name(&bus)
            .targets(target)
            .send()
            .await
            .map_err(|e| ProvisionError::aws(&rule.name, e))?;
    }
    Ok(deliveries)
}

/// A log group's ARN ends in `:*` (as `!GetAtt LogGroup.Arn` gives it). AWS accepts that as a
/// rule target; moto takes the `:*` for part of the group's name, so it is dropped here.
fn native_target_arn(arn: String) -> String {
    match arn.strip_suffix(":*") {
        Some(bare) if arn.contains(":log-group:") => bare.to_owned(),
        _ => arn,
    }
}

/// The queue a rule delivers a function or state machine target through, redriven after
/// `max_attempts` receives to the target's DLQ, or to one of devstack's own so that nothing
/// is dropped locally. Returns its URL and ARN.
async fn shadow_queue(
    name: &str,
    max_attempts: u32,
    dead_letter: Option<String>,
    resolver: &Resolver,
    clients: &Clients,
) -> Result<(String, String), aws_sdk_sqs::Error> {
    let arn_of = |queue: &str| {
        format!(
            "arn:aws:sqs:{}:{}:{queue}",
            resolver.region(),
            resolver.account()
        )
    };
    let name = truncate(name, 70);
    let dead_letter = if let Some(arn) = dead_letter {
        arn
    } else {
        let undelivered = format!("{name}-undelivered");
        create_queue(&clients.sqs, &undelivered, HashMap::new()).await?;
        arn_of(&undelivered)
    };
    let redrive =
        serde_json::json!({"deadLetterTargetArn": dead_letter, "maxReceiveCount": max_attempts});
    let url = create_queue(
        &clients.sqs,
        &name,
        HashMap::from([
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (QueueAttributeName::VisibilityTimeout, "30".to_owned()),
        ]),
    )
    .await?;
    Ok((url, arn_of(&name)))
}

fn truncate(name: &str, max: usize) -> String {
    name.chars().take(max).collect()
}
