//! What devstack will run, computed from the template and the names provisioning gave the
//! resources, with no I/O: the functions and their environments, the HTTP routes and the
//! authorizer, the stream mappings and the rules with their targets. Unit tests check it from
//! inline YAML without an emulator; `stack` and `provision` carry it out.

use std::time::Duration;

use serde_json::Value;

use crate::{
    iam,
    lambda::AsyncInvokeSpec,
    provision::names::{MAX_RULE_NAME, arn, truncate},
    sources::{
        schedules::{Schedule, parse_rate},
        streams::StreamMapping,
    },
    template::{
        Attribute, EventTarget, Function, HttpRoute, OnFailureQueue, Properties, Resolver,
        ResourceKind, RuleSpec, ScheduleSpec, Template, TemplateError,
        properties::serverless::CorsConfiguration,
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
    /// Scheduled rules (SAM `Schedule` events), which devstack fires itself.
    pub schedules: Vec<Schedule>,
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
    /// Where Lambda writes its logs (`LoggingConfig.LogGroup`, else `/aws/lambda/<name>`).
    pub log_group: String,
    /// Every invocation is sampled for X-Ray (`Tracing: Active`).
    pub traced: bool,
    /// The execution role's statements (the template's `Policies`, intrinsics resolved, SAM
    /// policy templates expanded), which the edge enforces on the function's calls.
    pub statements: Vec<Value>,
    /// `AutoPublishAlias`: published as version 1 at start; the HTTP routes invoke it.
    pub alias: Option<String>,
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
    pub arn: String,
    /// The event pattern as JSON text, intrinsics resolved.
    pub pattern: String,
    pub targets: Vec<TargetPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPlan {
    /// Delivered by the emulator itself: an SQS queue or a log group.
    Native { id: String, arn: String },
    /// Delivered by devstack from a shadow queue; after `max_attempts` failed deliveries the
    /// event goes to the dead-letter queue, or is lost.
    Delivered {
        id: String,
        shadow_queue: String,
        max_attempts: u32,
        dead_letter: DeadLetter,
        target: DeliveryTarget,
    },
}

/// Where a rule target's undeliverable events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetter {
    /// The template names no DLQ: EventBridge drops the event.
    None,
    /// The DLQ, which lets EventBridge send to it.
    Queue(String),
    /// A DLQ whose queue policy refuses EventBridge: the event is dropped, as in AWS.
    Refused { arn: String, why: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryTarget {
    /// A function, by logical id.
    Function(String),
    /// A state machine, by ARN.
    StateMachine(String),
}

const MAX_QUEUE_NAME: usize = 70;

/// A function's routes. With `AutoPublishAlias`, SAM points the API's integrations at the
/// alias, so a new `$LATEST` serves nothing until the alias moves: so does devstack.
fn routes_of(function: &Function) -> Vec<HttpRoute> {
    function
        .http_routes()
        .map(|route| match &function.alias {
            Some(alias) => HttpRoute {
                function: format!("{}:{alias}", route.function),
                ..route.clone()
            },
            None => route.clone(),
        })
        .collect()
}

impl Plan {
    pub fn new(template: &Template, resolver: &Resolver) -> Result<Self, TemplateError> {
        let functions = template.functions()?;
        let mut plan = Plan {
            functions: Vec::new(),
            routes: functions.iter().flat_map(routes_of).collect(),
            authorizer: None,
            cors: None,
            stream_mappings: Vec::new(),
            rules: Vec::new(),
            schedules: Vec::new(),
        };
        for function in &functions {
            let at = |what: &str| format!("{}.{what}", function.logical_id);
            let mut environment = Vec::new();
            for (key, value) in &function.environment {
                let at = at(&format!("Properties.Environment.Variables.{key}"));
                environment.push((key.clone(), resolver.resolve_string(value, &at)?));
            }
            let policies = resolver.resolve(&function.policies, &at("Properties.Policies"))?;
            let statements = iam::function_statements(&policies, |name| {
                Some(arn(resolver, "sqs", name.as_str()?))
            });
            let name = resolver
                .require(&function.logical_id, Attribute::Ref, &at("name"))?
                .to_owned();
            let log_group = match &function.log_group {
                Some(group) => {
                    resolver.resolve_string(group, &at("Properties.LoggingConfig.LogGroup"))?
                }
                None => format!("/aws/lambda/{name}"),
            };
            plan.functions.push(FunctionPlan {
                statements,
                log_group,
                traced: function.traced,
                alias: function.alias.clone(),
                logical_id: function.logical_id.clone(),
                name,
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
                            on_failure_queue(
                                function,
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
                    .push(stream_mapping(function, source, template, resolver)?);
            }
            // A disabled rule (`Enabled: false`, `State: DISABLED`) never fires.
            for schedule in function.schedules().filter(|s| s.enabled) {
                plan.schedules.push(schedule_plan(schedule, resolver)?);
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
            plan.rules.push(rule_plan(&rule, template, resolver)?);
        }
        Ok(plan)
    }
}

fn stream_mapping(
    function: &Function,
    source: &crate::template::StreamSource,
    template: &Template,
    resolver: &Resolver,
) -> Result<StreamMapping, TemplateError> {
    let stream_arn = resolver.resolve_string(&source.stream, &format!("{}.Stream", source.at))?;
    let on_failure = source
        .on_failure
        .as_ref()
        .map(|destination| {
            on_failure_queue(
                function,
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

/// A `Schedule` event as devstack fires it: its period, and the rule's name and ARN as the
/// event names them (the rule SAM generates lives on the default bus).
fn schedule_plan(schedule: &ScheduleSpec, resolver: &Resolver) -> Result<Schedule, TemplateError> {
    let at = format!("{}.Schedule", schedule.at);
    let expression = resolver.resolve_string(&schedule.expression, &at)?;
    let period = parse_rate(&expression)
        .map_err(|error| TemplateError::unsupported(&at, error.to_string()))?;
    let name = match &schedule.rule_name {
        Some(name) => resolver.resolve_string(name, &format!("{}.Name", schedule.at))?,
        None => truncate(
            &format!("{}-{}", resolver.stack(), schedule.name.replace('.', "-")),
            MAX_RULE_NAME,
        ),
    };
    Ok(Schedule {
        rule: schedule.logical_id.clone(),
        rule_arn: arn(resolver, "events", &format!("rule/{name}")),
        function: schedule.function.clone(),
        period,
    })
}

/// The URL of the template's queue an on-failure destination names, once the function's
/// role is known to allow writing to it.
fn on_failure_queue(
    function: &Function,
    destination: &OnFailureQueue,
    at: &str,
    template: &Template,
    resolver: &Resolver,
) -> Result<String, TemplateError> {
    let queue = template
        .referenced(&destination.queue)
        .filter(|r| r.kind == ResourceKind::SqsQueue)
        .ok_or_else(|| {
            TemplateError::unsupported(
                at,
                "the on-failure destination must be a queue of the template",
            )
        })?;
    let queue_arn = resolver.require(&queue.logical_id, Attribute::Arn, at)?;
    if !destination.granted_by_sam {
        check_role_may_send(function, queue_arn, resolver, at)?;
    }
    Ok(resolver
        .require(&queue.logical_id, Attribute::QueueUrl, at)?
        .to_owned())
}

fn rule_plan(
    rule: &RuleSpec,
    template: &Template,
    resolver: &Resolver,
) -> Result<RulePlan, TemplateError> {
    let at_rule = format!("{}.Name", rule.name);
    let name = resolver
        .require(&rule.logical_id, Attribute::Ref, &at_rule)?
        .to_owned();
    let bus = resolver
        .require(&rule.logical_id, Attribute::Name, &at_rule)?
        .to_owned();
    let rule_arn = resolver
        .require(&rule.logical_id, Attribute::Arn, &at_rule)?
        .to_owned();
    let pattern = resolver.resolve(&rule.pattern, &format!("{}.Pattern", rule.name))?;
    let mut targets = Vec::new();
    for target in &rule.targets {
        let at = |what: &str| format!("{}.Targets.{what}", rule.name);
        let (id, max_attempts, dead_letter, target) = match target {
            EventTarget::Native { id, arn } => {
                targets.push(TargetPlan::Native {
                    id: id.clone(),
                    arn: native_target_arn(resolver.resolve_string(arn, &at(id))?),
                });
                continue;
            }
            EventTarget::Function {
                id,
                function,
                max_attempts,
                dead_letter,
            } => (
                id,
                max_attempts,
                dead_letter,
                DeliveryTarget::Function(function.clone()),
            ),
            EventTarget::StateMachine {
                id,
                state_machine,
                max_attempts,
                dead_letter,
            } => (
                id,
                max_attempts,
                dead_letter,
                DeliveryTarget::StateMachine(
                    resolver
                        .require(state_machine, Attribute::Arn, &at(id))?
                        .to_owned(),
                ),
            ),
        };
        let dead_letter = match dead_letter {
            None => DeadLetter::None,
            Some(queue) => rule_dead_letter(
                queue,
                &rule_arn,
                template,
                resolver,
                &format!("{}.DeadLetterConfig", at(id)),
            )?,
        };
        targets.push(TargetPlan::Delivered {
            id: id.clone(),
            shadow_queue: truncate(&format!("{name}-{id}"), MAX_QUEUE_NAME),
            max_attempts: *max_attempts,
            dead_letter,
            target,
        });
    }
    Ok(RulePlan {
        source: rule.name.clone(),
        name,
        bus,
        arn: rule_arn,
        pattern: pattern.to_string(),
        targets,
    })
}

/// A rule's DLQ, and whether its queue policy lets EventBridge send this rule's failed
/// deliveries to it. AWS sends them with EventBridge's own identity, so without a queue policy
/// allowing `events.amazonaws.com` (for this rule's ARN) the DLQ stays empty and the events
/// are gone; devstack refuses the same way.
fn rule_dead_letter(
    queue: &Value,
    rule_arn: &str,
    template: &Template,
    resolver: &Resolver,
    at: &str,
) -> Result<DeadLetter, TemplateError> {
    let arn = resolver.resolve_string(queue, at)?;
    let queue_url = template
        .referenced(queue)
        .and_then(|q| resolver.get(&q.logical_id, Attribute::QueueUrl));
    let mut statements = Vec::new();
    for resource in &template.resources {
        let Properties::QueuePolicy(policy) = &resource.properties else {
            continue;
        };
        let mut covers = false;
        for named in &policy.queues {
            let url = resolver.resolve_string(named, &resource.at("Queues"))?;
            covers |= Some(url.as_str()) == queue_url;
        }
        if covers {
            let document =
                resolver.resolve(&policy.policy_document, &resource.at("PolicyDocument"))?;
            statements.extend(iam::statements(&document));
        }
    }
    let request = iam::Request {
        service: Some("events.amazonaws.com"),
        action: "sqs:SendMessage",
        resource: &arn,
        context: &[("aws:SourceArn", rule_arn)],
    };
    Ok(match iam::decide(&statements, &request) {
        iam::Decision::Allow => DeadLetter::Queue(arn),
        refused => DeadLetter::Refused {
            why: format!(
                "{refused:?}: no AWS::SQS::QueuePolicy on {arn} allows events.amazonaws.com to sqs:SendMessage with aws:SourceArn {rule_arn}"
            ),
            arn,
        },
    })
}

/// Lambda writes failed events to a function's on-failure destination with the function's
/// execution role, and refuses a destination the role may not write to when the function is
/// deployed; devstack refuses it at start-up.
fn check_role_may_send(
    function: &Function,
    queue_arn: &str,
    resolver: &Resolver,
    at: &str,
) -> Result<(), TemplateError> {
    let statements = iam::function_statements(&function.policies, |name| {
        let name = resolver.resolve_string(name, at).ok()?;
        Some(arn(resolver, "sqs", &name))
    });
    let request = iam::Request {
        service: None,
        action: "sqs:SendMessage",
        resource: queue_arn,
        context: &[],
    };
    match iam::decide(&statements, &request) {
        iam::Decision::Allow => Ok(()),
        refused => Err(TemplateError::unsupported(
            at,
            format!(
                "{refused:?}: the function's execution role may not sqs:SendMessage to its on-failure destination {queue_arn} (give the destination Type: SQS so SAM grants it, or add SQSSendMessagePolicy); AWS refuses this deployment"
            ),
        )),
    }
}

/// A log group's ARN ends in `:*` (as `!GetAtt LogGroup.Arn` gives it). AWS accepts that as a
/// rule target; moto takes the `:*` for part of the group's name, so it is dropped here.
fn native_target_arn(arn: String) -> String {
    match arn.strip_suffix(":*") {
        Some(bare) if arn.contains(":log-group:") => bare.to_owned(),
        _ => arn,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TEMPLATE: &str = r"
Parameters:
  Stage: {Type: String, Default: dev}
  Minutes: {Type: Number, Default: 5}
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
  TargetDLQPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref TargetDLQ]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt TargetDLQ.Arn
            Condition: {ArnEquals: {aws:SourceArn: !GetAtt PublisherShipped.Arn}}
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
      Policies:
        - SQSSendMessagePolicy: {QueueName: !GetAtt FailedRecords.QueueName}
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            MaximumRetryAttempts: 3
            BisectBatchOnFunctionError: true
            DestinationConfig: {OnFailure: {Destination: !GetAtt FailedRecords.Arn}}
        Get: {Type: HttpApi, Properties: {Method: GET, Path: '/things/{id}'}}
        Tick: {Type: Schedule, Properties: {Schedule: !Sub 'rate(${Minutes} minutes)'}}
        Paused: {Type: Schedule, Properties: {Schedule: rate(1 day), Enabled: false}}
        Shipped:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {detail-type: [Shipped]}
            RetryPolicy: {MaximumRetryAttempts: 9}
            DeadLetterConfig: {Arn: !GetAtt TargetDLQ.Arn}
";

    /// The names provisioning would have recorded.
    fn provisioned(template: &Template) -> Resolver {
        let mut resolver = Resolver::new(
            "us-east-1",
            "123456789012",
            "shop-local",
            HashMap::from([
                ("Stage".to_owned(), "local".to_owned()),
                ("Minutes".to_owned(), "5".to_owned()),
            ]),
        );
        let sqs = "arn:aws:sqs:us-east-1:123456789012";
        for (id, attribute, value) in [
            ("Bus", Attribute::Ref, "shop-local"),
            ("Table", Attribute::Ref, "shop-local-Table"),
            ("Table", Attribute::StreamArn, "arn:stream/1"),
            ("FailedRecords", Attribute::QueueUrl, "http://sqs/failed"),
            ("FailedRecords", Attribute::QueueName, "failed"),
            ("FailedRecords", Attribute::Arn, &format!("{sqs}:failed")),
            ("TargetDLQ", Attribute::Arn, &format!("{sqs}:target-dlq")),
            ("TargetDLQ", Attribute::QueueUrl, "http://sqs/target-dlq"),
            ("TargetDLQ", Attribute::Ref, "http://sqs/target-dlq"),
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
        crate::provision::names::name_rules(template, &mut resolver).unwrap();
        resolver
    }

    fn plan_of(yaml: &str) -> Result<Plan, TemplateError> {
        let template = Template::from_yaml(yaml).unwrap();
        Plan::new(&template, &provisioned(&template))
    }

    fn plan() -> Plan {
        plan_of(TEMPLATE).unwrap()
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
                dead_letter: DeadLetter::Queue(
                    "arn:aws:sqs:us-east-1:123456789012:target-dlq".into()
                ),
                target: DeliveryTarget::Function("Publisher".into()),
            }]
        );

        let placed = by_source("Saga.Placed");
        assert!(matches!(
            &placed.targets[0],
            TargetPlan::Delivered { target: DeliveryTarget::StateMachine(arn), max_attempts: 3, dead_letter: DeadLetter::None, .. }
                if arn.ends_with(":stateMachine:saga")
        ));
    }

    #[test]
    fn enabled_schedules_fire_their_function_with_the_rules_arn() {
        assert_eq!(
            plan().schedules,
            [Schedule {
                rule: "PublisherTick".into(),
                rule_arn: "arn:aws:events:us-east-1:123456789012:rule/shop-local-Publisher-Tick"
                    .into(),
                function: "Publisher".into(),
                period: Duration::from_mins(5),
            }]
        );
    }

    #[test]
    fn a_cron_schedule_stops_start_up_naming_where_it_is() {
        let yaml = TEMPLATE.replace("!Sub 'rate(${Minutes} minutes)'", "cron(0 12 * * ? *)");
        let message = plan_of(&yaml).unwrap_err().to_string();
        assert!(
            message.contains("Publisher.Properties.Events.Tick.Schedule")
                && message.contains("rate(...)"),
            "{message}"
        );
    }

    #[test]
    fn physical_names_fit_the_services_limits() {
        let long = "x".repeat(80);
        let yaml = TEMPLATE
            .replace("Shipped:\n", &format!("{long}:\n"))
            .replace("PublisherShipped", &format!("Publisher{long}"));
        let plan = plan_of(&yaml).unwrap();
        for rule in &plan.rules {
            assert!(
                rule.name.chars().count() <= crate::provision::names::MAX_RULE_NAME,
                "{}",
                rule.name
            );
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

    #[test]
    fn a_rule_dlq_without_a_queue_policy_for_the_rule_is_refused_as_in_aws() {
        let yaml = TEMPLATE.replace("!GetAtt PublisherShipped.Arn", "arn:aws:events:elsewhere");
        let rules = plan_of(&yaml).unwrap().rules;
        let shipped = rules
            .iter()
            .find(|r| r.source == "Publisher.Shipped")
            .unwrap();
        let TargetPlan::Delivered { dead_letter, .. } = &shipped.targets[0] else {
            panic!("a delivered target");
        };
        let DeadLetter::Refused { why, .. } = dead_letter else {
            panic!("refused, not {dead_letter:?}");
        };
        assert!(
            why.contains("events.amazonaws.com") && why.contains(&shipped.arn),
            "{why}"
        );
    }

    #[test]
    fn an_on_failure_destination_the_functions_role_may_not_write_to_is_refused() {
        let yaml = TEMPLATE.replace(
            "        - SQSSendMessagePolicy: {QueueName: !GetAtt FailedRecords.QueueName}\n",
            "        - SQSSendMessagePolicy: {QueueName: other}\n",
        );
        let message = plan_of(&yaml).unwrap_err().to_string();
        assert!(
            message.contains("Publisher.Properties.Events.Changes.DestinationConfig")
                && message.contains("may not sqs:SendMessage"),
            "{message}"
        );
    }
}
