//! What devstack will run, computed from the template and the names provisioning gave the
//! resources, with no I/O: the functions and their environments, the HTTP routes and the
//! authorizer, the stream mappings and the rules with their targets. Unit tests check it from
//! inline YAML without an emulator; `stack` and `provision` carry it out.

use std::time::Duration;

use crate::{
    lambda::AsyncInvokeSpec,
    sources::streams::StreamMapping,
    template::{
        Attribute, EventTarget, HttpRoute, Resolver, ResourceKind, RuleSpec, Template,
        TemplateError, properties::serverless::CorsConfiguration,
    },
};

#[derive(Debug, Clone)]
pub struct Plan {
    pub functions: Vec<FunctionPlan>,
    pub routes: Vec<HttpRoute>,
    pub authorizer: Option<AuthorizerPlan>,
    pub cors: Option<CorsConfiguration>,
    pub stream_mappings: Vec<StreamMapping>,
    pub rules: Vec<RulePlan>,
}

/// A function as devstack runs it.
#[derive(Debug, Clone)]
pub struct FunctionPlan {
    pub logical_id: String,
    /// The deployed name (`<stack>-<logical id>`).
    pub name: String,
    pub arn: String,
    /// The cargo binary.
    pub binary: String,
    /// The template's variables, resolved (Lambda's own variables are added at start).
    pub environment: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub async_invoke: AsyncInvokeSpec,
}

/// The HTTP API's JWT authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerPlan {
    pub issuer: String,
    pub audiences: Vec<String>,
}

impl AuthorizerPlan {
    /// The user pool id, the last segment of a Cognito issuer URL.
    pub fn user_pool_id(&self) -> Option<&str> {
        self.issuer.rsplit('/').next()
    }
}

/// A rule as it is created on the emulator.
#[derive(Debug, Clone)]
pub struct RulePlan {
    /// Where the rule is declared: a rule's logical id or `<resource>.<event>`.
    pub source: String,
    /// The physical rule name (EventBridge allows 64 characters).
    pub name: String,
    pub bus: String,
    /// The event pattern as JSON text, intrinsics resolved.
    pub pattern: String,
    pub targets: Vec<TargetPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPlan {
    /// Delivered by the emulator itself: an SQS queue or a log group.
    Native { id: String, arn: String },
    /// Delivered by devstack from a shadow queue, redriven to `dead_letter` (or a queue of
    /// devstack's own) after `max_attempts` receives.
    Delivered {
        id: String,
        shadow_queue: String,
        max_attempts: u32,
        dead_letter: Option<String>,
        target: DeliveryTarget,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryTarget {
    /// A function, by logical id.
    Function(String),
    /// A state machine, by ARN.
    StateMachine(String),
}

const MAX_RULE_NAME: usize = 64;
const MAX_QUEUE_NAME: usize = 70;

impl Plan {
    pub fn new(template: &Template, resolver: &Resolver) -> Result<Self, TemplateError> {
        let functions = template.functions()?;
        let mut plan = Plan {
            functions: Vec::new(),
            routes: functions
                .iter()
                .flat_map(|f| f.http_routes().cloned())
                .collect(),
            authorizer: None,
            cors: None,
            stream_mappings: Vec::new(),
            rules: Vec::new(),
        };
        for function in &functions {
            let at = |what: &str| format!("{}.{what}", function.logical_id);
            let mut environment = Vec::new();
            for (key, value) in &function.environment {
                let at = at(&format!("Properties.Environment.Variables.{key}"));
                environment.push((key.clone(), resolver.resolve_string(value, &at)?));
            }
            plan.functions.push(FunctionPlan {
                logical_id: function.logical_id.clone(),
                name: resolver
                    .require(&function.logical_id, Attribute::Ref, &at("name"))?
                    .to_owned(),
                arn: resolver
                    .require(&function.logical_id, Attribute::Arn, &at("arn"))?
                    .to_owned(),
                binary: function.binary.clone(),
                environment,
                timeout: function.timeout,
                memory_mb: function.memory_mb,
                async_invoke: AsyncInvokeSpec {
                    max_retries: function.async_invoke.max_retries,
                    max_event_age: function.async_invoke.max_event_age,
                    on_failure: function
                        .async_invoke
                        .on_failure
                        .as_ref()
                        .map(|destination| {
                            queue_url(
                                destination,
                                &at("Properties.EventInvokeConfig.DestinationConfig.OnFailure"),
                                template,
                                resolver,
                            )
                        })
                        .transpose()?,
                },
            });
            // A disabled mapping (`Enabled: false`) reads nothing, as in Lambda.
            for source in function.stream_sources().filter(|s| s.enabled) {
                plan.stream_mappings
                    .push(stream_mapping(source, template, resolver)?);
            }
        }
        if let Some(api) = template.http_api()? {
            plan.cors = api.cors;
            if let Some(issuer) = &api.jwt_issuer {
                let at = format!("{}.Properties.Auth", api.logical_id);
                plan.authorizer = Some(AuthorizerPlan {
                    issuer: resolver.resolve_string(issuer, &at)?,
                    audiences: api
                        .jwt_audience
                        .iter()
                        .map(|a| resolver.resolve_string(a, &at))
                        .collect::<Result<_, _>>()?,
                });
            }
        }
        for rule in template.rules()? {
            plan.rules.push(rule_plan(&rule, resolver)?);
        }
        Ok(plan)
    }
}

fn stream_mapping(
    source: &crate::template::StreamSource,
    template: &Template,
    resolver: &Resolver,
) -> Result<StreamMapping, TemplateError> {
    let stream_arn = resolver.resolve_string(&source.stream, &format!("{}.Stream", source.at))?;
    let on_failure = source
        .on_failure
        .as_ref()
        .map(|destination| {
            queue_url(
                destination,
                &format!("{}.DestinationConfig", source.at),
                template,
                resolver,
            )
        })
        .transpose()?;
    Ok(StreamMapping {
        function: source.function.clone(),
        stream_arn,
        starting_position: source.starting_position,
        batch_size: source.batch_size,
        batching_window: source.batching_window,
        max_retries: source.max_retries,
        max_record_age: source.max_record_age,
        report_batch_item_failures: source.report_batch_item_failures,
        bisect_on_error: source.bisect_on_error,
        on_failure,
    })
}

/// The URL of the template's queue an on-failure destination names.
fn queue_url(
    destination: &serde_json::Value,
    at: &str,
    template: &Template,
    resolver: &Resolver,
) -> Result<String, TemplateError> {
    let queue = template
        .referenced(destination)
        .filter(|r| r.kind == ResourceKind::SqsQueue)
        .ok_or_else(|| {
            TemplateError::unsupported(
                at,
                "the on-failure destination must be a queue of the template",
            )
        })?;
    Ok(resolver
        .require(&queue.logical_id, Attribute::QueueUrl, at)?
        .to_owned())
}

fn rule_plan(rule: &RuleSpec, resolver: &Resolver) -> Result<RulePlan, TemplateError> {
    let bus = match &rule.bus {
        Some(bus) => resolver.resolve_string(bus, &format!("{}.EventBusName", rule.name))?,
        None => "default".to_owned(),
    };
    let name = truncate(
        &format!("{}-{}", resolver.stack(), rule.name.replace('.', "-")),
        MAX_RULE_NAME,
    );
    let pattern = resolver.resolve(&rule.pattern, &format!("{}.Pattern", rule.name))?;
    let mut targets = Vec::new();
    for target in &rule.targets {
        let at = |what: &str| format!("{}.Targets.{what}", rule.name);
        targets.push(match target {
            EventTarget::Native { id, arn } => TargetPlan::Native {
                id: id.clone(),
                arn: native_target_arn(resolver.resolve_string(arn, &at(id))?),
            },
            EventTarget::Function {
                id,
                function,
                max_attempts,
                dead_letter,
            } => TargetPlan::Delivered {
                id: id.clone(),
                shadow_queue: truncate(&format!("{name}-{id}"), MAX_QUEUE_NAME),
                max_attempts: *max_attempts,
                dead_letter: dead_letter_arn(dead_letter.as_ref(), resolver, &at(id))?,
                target: DeliveryTarget::Function(function.clone()),
            },
            EventTarget::StateMachine {
                id,
                state_machine,
                max_attempts,
                dead_letter,
            } => TargetPlan::Delivered {
                id: id.clone(),
                shadow_queue: truncate(&format!("{name}-{id}"), MAX_QUEUE_NAME),
                max_attempts: *max_attempts,
                dead_letter: dead_letter_arn(dead_letter.as_ref(), resolver, &at(id))?,
                target: DeliveryTarget::StateMachine(
                    resolver
                        .require(state_machine, Attribute::Arn, &at(id))?
                        .to_owned(),
                ),
            },
        });
    }
    Ok(RulePlan {
        source: rule.name.clone(),
        name,
        bus,
        pattern: pattern.to_string(),
        targets,
    })
}

fn dead_letter_arn(
    dead_letter: Option<&serde_json::Value>,
    resolver: &Resolver,
    at: &str,
) -> Result<Option<String>, TemplateError> {
    dead_letter
        .map(|arn| resolver.resolve_string(arn, &format!("{at}.DeadLetterConfig")))
        .transpose()
}

/// A log group's ARN ends in `:*` (as `!GetAtt LogGroup.Arn` gives it). AWS accepts that as a
/// rule target; moto takes the `:*` for part of the group's name, so it is dropped here.
fn native_target_arn(arn: String) -> String {
    match arn.strip_suffix(":*") {
        Some(bare) if arn.contains(":log-group:") => bare.to_owned(),
        _ => arn,
    }
}

fn truncate(name: &str, max: usize) -> String {
    name.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TEMPLATE: &str = r"
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: !Sub 'shop-${Stage}'}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  FailedRecords:
    Type: AWS::SQS::Queue
  TargetDLQ:
    Type: AWS::SQS::Queue
  Log:
    Type: AWS::Logs::LogGroup
  LogRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [{prefix: shop.}]}
      Targets: [{Id: log, Arn: !GetAtt Log.Arn}]
  Saga:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: saga.asl.json
      Events:
        Placed:
          Type: EventBridgeRule
          Properties: {EventBusName: !Ref Bus, Pattern: {detail-type: [OrderPlaced]}}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            JwtConfiguration:
              issuer: !Sub 'https://cognito-idp.${AWS::Region}.amazonaws.com/pool-1'
              audience: [client-1]
  Publisher:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: publisher}}
    Properties:
      Timeout: 30
      Environment: {Variables: {EVENT_BUS_NAME: !Ref Bus, TABLE: !Ref Table}}
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            MaximumRetryAttempts: 3
            BisectBatchOnFunctionError: true
            DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt FailedRecords.Arn}}
        Get: {Type: HttpApi, Properties: {Method: GET, Path: '/things/{id}'}}
        Shipped:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {detail-type: [Shipped]}
            RetryPolicy: {MaximumRetryAttempts: 9}
            DeadLetterConfig: {Arn: !GetAtt TargetDLQ.Arn}
";

    /// The names provisioning would have recorded.
    fn provisioned() -> Resolver {
        let mut resolver = Resolver::new(
            "us-east-1",
            "123456789012",
            "shop-local",
            HashMap::from([("Stage".to_owned(), "local".to_owned())]),
        );
        let sqs = "arn:aws:sqs:us-east-1:123456789012";
        for (id, attribute, value) in [
            ("Bus", Attribute::Ref, "shop-local"),
            ("Table", Attribute::Ref, "shop-local-Table"),
            ("Table", Attribute::StreamArn, "arn:stream/1"),
            ("FailedRecords", Attribute::QueueUrl, "http://sqs/failed"),
            ("TargetDLQ", Attribute::Arn, &format!("{sqs}:target-dlq")),
            (
                "Log",
                Attribute::Arn,
                "arn:aws:logs:us-east-1:123456789012:log-group:/events:*",
            ),
            (
                "Saga",
                Attribute::Arn,
                "arn:aws:states:us-east-1:123456789012:stateMachine:saga",
            ),
            ("Publisher", Attribute::Ref, "shop-local-Publisher"),
            (
                "Publisher",
                Attribute::Arn,
                "arn:aws:lambda:us-east-1:123456789012:function:shop-local-Publisher",
            ),
        ] {
            resolver.set(id, attribute, value);
        }
        resolver
    }

    fn plan() -> Plan {
        Plan::new(&Template::from_yaml(TEMPLATE).unwrap(), &provisioned()).unwrap()
    }

    #[test]
    fn functions_run_under_their_deployed_names_with_resolved_environments() {
        let plan = plan();
        let function = &plan.functions[0];
        assert_eq!(function.name, "shop-local-Publisher");
        assert_eq!(function.binary, "publisher");
        assert_eq!(function.timeout, Duration::from_secs(30));
        assert!(
            function
                .environment
                .contains(&("EVENT_BUS_NAME".to_owned(), "shop-local".to_owned()))
        );
        assert!(
            function
                .environment
                .contains(&("TABLE".to_owned(), "shop-local-Table".to_owned()))
        );
    }

    #[test]
    fn routes_and_the_authorizer_come_from_the_functions_and_the_api() {
        let plan = plan();
        assert_eq!(plan.routes.len(), 1);
        assert_eq!(plan.routes[0].path, "/things/{id}");
        assert!(!plan.routes[0].public);
        let authorizer = plan.authorizer.unwrap();
        assert_eq!(
            authorizer.issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/pool-1"
        );
        assert_eq!(authorizer.user_pool_id(), Some("pool-1"));
        assert_eq!(authorizer.audiences, ["client-1"]);
    }

    #[test]
    fn a_stream_mapping_reads_the_table_stream_and_parks_in_the_queue_url() {
        let mapping = &plan().stream_mappings[0];
        assert_eq!(mapping.function, "Publisher");
        assert_eq!(mapping.stream_arn, "arn:stream/1");
        assert_eq!(mapping.batch_size, 10);
        assert_eq!(mapping.max_retries, Some(3));
        assert!(mapping.bisect_on_error && !mapping.report_batch_item_failures);
        assert_eq!(mapping.on_failure.as_deref(), Some("http://sqs/failed"));
    }

    #[test]
    fn rule_targets_are_native_or_delivered_through_a_shadow_queue() {
        let rules = plan().rules;
        let by_source = |source: &str| rules.iter().find(|r| r.source == source).unwrap().clone();

        let log = by_source("LogRule");
        assert_eq!(log.bus, "shop-local");
        assert_eq!(log.pattern, r#"{"source":[{"prefix":"shop."}]}"#);
        assert_eq!(
            log.targets,
            [TargetPlan::Native {
                id: "log".into(),
                arn: "arn:aws:logs:us-east-1:123456789012:log-group:/events".into()
            }]
        );

        let shipped = by_source("Publisher.Shipped");
        assert_eq!(shipped.name, "shop-local-Publisher-Shipped");
        assert_eq!(
            shipped.targets,
            [TargetPlan::Delivered {
                id: "Shipped".into(),
                shadow_queue: "shop-local-Publisher-Shipped-Shipped".into(),
                max_attempts: 10,
                dead_letter: Some("arn:aws:sqs:us-east-1:123456789012:target-dlq".into()),
                target: DeliveryTarget::Function("Publisher".into()),
            }]
        );

        let placed = by_source("Saga.Placed");
        assert!(matches!(
            &placed.targets[0],
            TargetPlan::Delivered { target: DeliveryTarget::StateMachine(arn), max_attempts: 3, dead_letter: None, .. }
                if arn.ends_with(":stateMachine:saga")
        ));
    }

    #[test]
    fn physical_names_fit_the_services_limits() {
        let long = "x".repeat(80);
        let yaml = TEMPLATE.replace("Shipped:\n", &format!("{long}:\n"));
        let plan = Plan::new(&Template::from_yaml(&yaml).unwrap(), &provisioned()).unwrap();
        for rule in &plan.rules {
            assert!(rule.name.chars().count() <= MAX_RULE_NAME, "{}", rule.name);
            for target in &rule.targets {
                if let TargetPlan::Delivered { shadow_queue, .. } = target {
                    assert!(shadow_queue.chars().count() <= MAX_QUEUE_NAME);
                }
            }
        }
    }

    #[test]
    fn a_reference_to_something_not_provisioned_names_where_it_is() {
        let nothing_provisioned = Resolver::new("us-east-1", "1", "s", HashMap::new());
        let message = Plan::new(
            &Template::from_yaml(TEMPLATE).unwrap(),
            &nothing_provisioned,
        )
        .unwrap_err()
        .to_string();
        assert!(
            message.contains("Publisher.Properties.Environment.Variables.EVENT_BUS_NAME")
                && message.contains("!Ref Bus"),
            "{message}"
        );
    }
}
