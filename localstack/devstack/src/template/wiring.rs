//! The parts of the template devstack runs itself, read from the typed properties with AWS's
//! defaults filled in: functions and their event sources, the HTTP API, rules and state
//! machines. Values that may hold intrinsics stay unresolved here; the plan resolves them.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde_json::{Map, Value};

use super::{
    Resource, ResourceKind, Template, TemplateError,
    properties::{
        Properties,
        events::{DeadLetterConfig, RetryPolicy, RuleProperties},
        serverless::{
            CorsConfiguration, DestinationKind, DynamoDbEvent, EventBridgeRuleEvent,
            EventInvokeConfig, FunctionEventSource, FunctionProperties, FunctionResponseType,
            HttpApiEvent, HttpApiProperties, OnFailure, ScheduleEvent, StartingPosition,
            StateMachineEventSource, StateMachineProperties,
        },
    },
};

/// Lambda's defaults for a function without `Timeout` or `MemorySize`.
const DEFAULT_TIMEOUT_SECONDS: u32 = 3;
const DEFAULT_MEMORY_MB: u32 = 128;
/// Lambda's default `BatchSize` for DynamoDB streams.
const DEFAULT_STREAM_BATCH_SIZE: u32 = 100;
/// Lambda's defaults for asynchronous invocations: two retries, events up to six hours old.
const DEFAULT_ASYNC_RETRIES: u32 = 2;
const DEFAULT_MAX_EVENT_AGE_SECONDS: u32 = 6 * 60 * 60;

/// EventBridge's default for rule targets is 185 attempts over 24 hours. Locally a few
/// attempts with short backoff show the same behaviour without waiting a day.
const DEFAULT_TARGET_ATTEMPTS: u32 = 3;

/// A Lambda function of the template.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// The cargo binary that is the function (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    pub timeout: Duration,
    pub memory_mb: u32,
    /// Unresolved `Environment.Variables` (globals merged in).
    pub environment: Map<String, Value>,
    pub events: Vec<FunctionEvent>,
    pub async_invoke: AsyncInvoke,
    /// Unresolved `Policies` of the execution role SAM generates.
    pub policies: Value,
    /// Unresolved `LoggingConfig.LogGroup`; Lambda's `/aws/lambda/<name>` without one.
    pub log_group: Option<Value>,
    /// `Tracing: Active`: Lambda samples every invocation for X-Ray.
    pub traced: bool,
    /// SAM's `AutoPublishAlias`: the alias the function's HTTP routes invoke.
    pub alias: Option<String>,
}

/// What Lambda does with a failed asynchronous invocation of the function.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncInvoke {
    pub max_retries: u32,
    pub max_event_age: Duration,
    /// The SQS on-failure destination; without one a failed event is lost.
    pub on_failure: Option<OnFailureQueue>,
}

/// An on-failure destination of a function (asynchronous invocations or a stream mapping).
/// Lambda writes to it with the function's execution role.
#[derive(Debug, Clone, PartialEq)]
pub struct OnFailureQueue {
    /// Unresolved ARN of the queue.
    pub queue: Value,
    /// `Type: SQS` is given, so SAM adds `sqs:SendMessage` on the queue to the role it
    /// generates; otherwise the function's `Policies` must allow it.
    pub granted_by_sam: bool,
}

impl From<&OnFailure> for OnFailureQueue {
    fn from(on_failure: &OnFailure) -> Self {
        Self {
            queue: on_failure.destination.clone(),
            granted_by_sam: on_failure.kind == Some(DestinationKind::Sqs),
        }
    }
}

#[derive(Debug, Clone)]
pub enum FunctionEvent {
    Http(HttpRoute),
    Stream(StreamSource),
    Rule(RuleSpec),
    Schedule(ScheduleSpec),
}

/// A scheduled rule whose target is a function (SAM's `Schedule` event).
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    /// Where the event is declared, for error messages.
    pub at: String,
    /// `<function>.<event>`.
    pub name: String,
    /// The function's logical id.
    pub function: String,
    /// The rule's logical id as SAM names the rule it generates: `<function><event>`.
    pub logical_id: String,
    /// Unresolved schedule expression.
    pub expression: Value,
    /// Unresolved `Name` of the rule.
    pub rule_name: Option<Value>,
    /// `Enabled: false` or `State: DISABLED` turn it off.
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub function: String,
    pub method: String,
    pub path: String,
    /// `Auth.Authorizer: NONE`: no token needed.
    pub public: bool,
}

#[derive(Debug, Clone)]
pub struct StreamSource {
    /// Where the event is declared, for error messages.
    pub at: String,
    pub function: String,
    /// Unresolved stream ARN.
    pub stream: Value,
    pub enabled: bool,
    pub starting_position: StartingPosition,
    pub batch_size: usize,
    pub batching_window: Duration,
    /// `None`: retry until the records expire (AWS's default of -1).
    pub max_retries: Option<u32>,
    /// `None`: records of any age are sent (AWS's default of -1).
    pub max_record_age: Option<Duration>,
    pub report_batch_item_failures: bool,
    pub bisect_on_error: bool,
    /// The SQS on-failure destination.
    pub on_failure: Option<OnFailureQueue>,
}

/// An EventBridge rule with the targets devstack delivers to.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Logical id of the rule, or `<resource>.<event>` for a SAM event.
    pub name: String,
    /// The rule's logical id; for a SAM event, `<resource><event>` as SAM names the rule it
    /// generates (so `!GetAtt OrderStarterFunctionOrderPlaced.Arn` names it).
    pub logical_id: String,
    /// Unresolved bus name; `None` is the default bus.
    pub bus: Option<Value>,
    pub pattern: Value,
    pub targets: Vec<EventTarget>,
}

#[derive(Debug, Clone)]
pub enum EventTarget {
    /// Delivered by devstack through an SQS shadow queue, with retries and a DLQ.
    Function {
        id: String,
        function: String,
        max_attempts: u32,
        dead_letter: Option<Value>,
    },
    StateMachine {
        id: String,
        state_machine: String,
        max_attempts: u32,
        dead_letter: Option<Value>,
    },
    /// Delivered by the emulator itself (SQS queues, CloudWatch Logs).
    Native { id: String, arn: Value },
}

/// The template's HTTP API.
#[derive(Debug, Clone)]
pub struct HttpApi {
    pub logical_id: String,
    /// The default authorizer's JWT settings (unresolved), when routes need a token.
    pub jwt_issuer: Option<Value>,
    pub jwt_audience: Vec<Value>,
    pub cors: Option<CorsConfiguration>,
}

/// A Step Functions state machine of the template.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub logical_id: String,
    pub definition_path: PathBuf,
    /// Unresolved substitutions for `${name}` placeholders in the definition.
    pub substitutions: BTreeMap<String, Value>,
    /// The workflow type as the template gives it (`STANDARD` when absent), unresolved.
    pub kind: Option<Value>,
    /// The `Logging` property, unresolved: where and what Step Functions logs of executions.
    pub logging: Option<Value>,
    pub rules: Vec<RuleSpec>,
}

impl Template {
    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        self.resources
            .iter()
            .filter_map(|resource| match &resource.properties {
                Properties::Function { binary, properties } => {
                    Some(Function::new(resource, binary, properties, self))
                }
                _ => None,
            })
            .collect()
    }

    pub fn state_machines(&self) -> Result<Vec<StateMachine>, TemplateError> {
        self.resources
            .iter()
            .filter_map(|resource| match &resource.properties {
                Properties::StateMachine(properties) => {
                    Some(StateMachine::new(resource, properties, self))
                }
                _ => None,
            })
            .collect()
    }

    pub fn http_api(&self) -> Result<Option<HttpApi>, TemplateError> {
        let mut apis = self
            .resources
            .iter()
            .filter_map(|resource| match &resource.properties {
                Properties::HttpApi(properties) => Some((resource, properties)),
                _ => None,
            });
        let Some((api, properties)) = apis.next() else {
            return Ok(None);
        };
        if let Some((other, _)) = apis.next() {
            return Err(TemplateError::unsupported(
                &other.logical_id,
                "devstack serves one HttpApi per stack",
            ));
        }
        HttpApi::new(api, properties).map(Some)
    }

    /// Every EventBridge rule: `AWS::Events::Rule` resources and the `EventBridgeRule` events
    /// of functions and state machines.
    pub fn rules(&self) -> Result<Vec<RuleSpec>, TemplateError> {
        let mut rules = Vec::new();
        for resource in &self.resources {
            if let Properties::Rule(properties) = &resource.properties {
                rules.push(RuleSpec::from_rule_resource(resource, properties, self)?);
            }
        }
        for function in self.functions()? {
            for event in function.events {
                if let FunctionEvent::Rule(rule) = event {
                    rules.push(rule);
                }
            }
        }
        for machine in self.state_machines()? {
            rules.extend(machine.rules);
        }
        Ok(rules)
    }
}

impl Function {
    fn new(
        resource: &Resource,
        binary: &str,
        properties: &FunctionProperties,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        let events = properties
            .events
            .iter()
            .map(|(name, source)| {
                let at = resource.at(&format!("Events.{name}"));
                Ok(match source {
                    FunctionEventSource::HttpApi(event) => {
                        FunctionEvent::Http(HttpRoute::new(&resource.logical_id, event))
                    }
                    FunctionEventSource::DynamoDB(event) => {
                        FunctionEvent::Stream(StreamSource::new(&resource.logical_id, event, at))
                    }
                    FunctionEventSource::Schedule(event) => FunctionEvent::Schedule(
                        ScheduleSpec::new(&resource.logical_id, name, event, at),
                    ),
                    FunctionEventSource::EventBridgeRule(event) => {
                        FunctionEvent::Rule(RuleSpec::from_sam_event(
                            &resource.logical_id,
                            name,
                            event,
                            &at,
                            TargetOwner::Function,
                            template,
                        )?)
                    }
                })
            })
            .collect::<Result<Vec<_>, TemplateError>>()?;
        Ok(Self {
            logical_id: resource.logical_id.clone(),
            binary: binary.to_owned(),
            timeout: Duration::from_secs(u64::from(
                properties.timeout.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
            )),
            memory_mb: properties.memory_size.unwrap_or(DEFAULT_MEMORY_MB),
            environment: properties
                .environment
                .as_ref()
                .map(|env| env.variables.clone())
                .unwrap_or_default(),
            events,
            async_invoke: AsyncInvoke::new(properties.event_invoke_config.as_ref()),
            policies: properties.policies.clone().unwrap_or(Value::Null),
            log_group: properties
                .logging_config
                .as_ref()
                .and_then(|config| config.log_group.clone()),
            traced: properties.tracing.as_deref() == Some("Active"),
            alias: properties.auto_publish_alias.clone(),
        })
    }

    pub fn http_routes(&self) -> impl Iterator<Item = &HttpRoute> {
        self.events.iter().filter_map(|e| match e {
            FunctionEvent::Http(route) => Some(route),
            _ => None,
        })
    }

    pub fn stream_sources(&self) -> impl Iterator<Item = &StreamSource> {
        self.events.iter().filter_map(|e| match e {
            FunctionEvent::Stream(source) => Some(source),
            _ => None,
        })
    }

    pub fn schedules(&self) -> impl Iterator<Item = &ScheduleSpec> {
        self.events.iter().filter_map(|e| match e {
            FunctionEvent::Schedule(schedule) => Some(schedule),
            _ => None,
        })
    }
}

impl ScheduleSpec {
    fn new(function: &str, event_name: &str, event: &ScheduleEvent, at: String) -> Self {
        Self {
            at,
            name: format!("{function}.{event_name}"),
            function: function.to_owned(),
            logical_id: format!("{function}{event_name}"),
            expression: event.schedule.clone(),
            rule_name: event.name.clone(),
            enabled: event.enabled != Some(false)
                && !event
                    .state
                    .as_deref()
                    .is_some_and(|state| state.eq_ignore_ascii_case("DISABLED")),
        }
    }
}

impl AsyncInvoke {
    fn new(config: Option<&EventInvokeConfig>) -> Self {
        Self {
            max_retries: config
                .and_then(|c| c.maximum_retry_attempts)
                .unwrap_or(DEFAULT_ASYNC_RETRIES),
            max_event_age: Duration::from_secs(u64::from(
                config
                    .and_then(|c| c.maximum_event_age_in_seconds)
                    .unwrap_or(DEFAULT_MAX_EVENT_AGE_SECONDS),
            )),
            on_failure: config
                .and_then(|c| c.destination_config.as_ref())
                .map(|d| OnFailureQueue::from(&d.on_failure)),
        }
    }
}

impl HttpRoute {
    fn new(function: &str, event: &HttpApiEvent) -> Self {
        Self {
            function: function.to_owned(),
            method: event
                .method
                .as_deref()
                .unwrap_or("ANY")
                .to_ascii_uppercase(),
            path: event.path.clone().unwrap_or_else(|| "/".to_owned()),
            public: event
                .auth
                .as_ref()
                .and_then(|auth| auth.authorizer.as_deref())
                == Some("NONE"),
        }
    }
}

impl StreamSource {
    fn new(function: &str, event: &DynamoDbEvent, at: String) -> Self {
        Self {
            at,
            function: function.to_owned(),
            stream: event.stream.clone(),
            enabled: event.enabled.unwrap_or(true),
            starting_position: event.starting_position,
            batch_size: event.batch_size.unwrap_or(DEFAULT_STREAM_BATCH_SIZE) as usize,
            batching_window: Duration::from_secs(u64::from(
                event.maximum_batching_window_in_seconds.unwrap_or(0),
            )),
            max_retries: event
                .maximum_retry_attempts
                .and_then(|n| u32::try_from(n).ok()),
            max_record_age: event
                .maximum_record_age_in_seconds
                .and_then(|n| u64::try_from(n).ok())
                .map(Duration::from_secs),
            report_batch_item_failures: event
                .function_response_types
                .contains(&FunctionResponseType::ReportBatchItemFailures),
            bisect_on_error: event.bisect_batch_on_function_error == Some(true),
            on_failure: event
                .destination_config
                .as_ref()
                .map(|config| OnFailureQueue::from(&config.on_failure)),
        }
    }
}

/// Who a SAM `EventBridgeRule` event belongs to: it becomes that resource's rule target.
#[derive(Debug, Clone, Copy)]
enum TargetOwner {
    Function,
    StateMachine,
}

impl RuleSpec {
    fn from_sam_event(
        owner: &str,
        event_name: &str,
        event: &EventBridgeRuleEvent,
        at: &str,
        owner_kind: TargetOwner,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        let max_attempts = attempts(event.retry_policy.as_ref());
        let dead_letter = match &event.dead_letter_config {
            None => None,
            Some(DeadLetterConfig { arn }) if template.referenced(arn).is_some() => {
                Some(arn.clone())
            }
            Some(_) => {
                return Err(TemplateError::unsupported(
                    format!("{at}.DeadLetterConfig"),
                    "give the DLQ as Arn: !GetAtt <queue in this template>.Arn",
                ));
            }
        };
        let id = event
            .target
            .as_ref()
            .map_or(event_name, |target| target.id.as_str())
            .to_owned();
        let owner_id = owner.to_owned();
        let target = match owner_kind {
            TargetOwner::Function => EventTarget::Function {
                id,
                function: owner_id,
                max_attempts,
                dead_letter,
            },
            TargetOwner::StateMachine => EventTarget::StateMachine {
                id,
                state_machine: owner_id,
                max_attempts,
                dead_letter,
            },
        };
        Ok(Self {
            name: format!("{owner}.{event_name}"),
            logical_id: format!("{owner}{event_name}"),
            bus: event.event_bus_name.clone(),
            pattern: event.pattern.clone(),
            targets: vec![target],
        })
    }

    fn from_rule_resource(
        resource: &Resource,
        properties: &RuleProperties,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        let mut targets = Vec::new();
        for (index, target) in properties.targets.iter().enumerate() {
            let id = target.id.clone();
            let max_attempts = attempts(target.retry_policy.as_ref());
            let dead_letter = target.dead_letter_config.as_ref().map(|c| c.arn.clone());
            let referenced = template.referenced(&target.arn);
            targets.push(match referenced.map(|r| (r.kind, r.logical_id.clone())) {
                Some((ResourceKind::Function, function)) => EventTarget::Function {
                    id,
                    function,
                    max_attempts,
                    dead_letter,
                },
                Some((ResourceKind::StateMachine, state_machine)) => EventTarget::StateMachine {
                    id,
                    state_machine,
                    max_attempts,
                    dead_letter,
                },
                Some((ResourceKind::SqsQueue | ResourceKind::LogGroup, _)) => EventTarget::Native {
                    id,
                    arn: target.arn.clone(),
                },
                _ => {
                    return Err(TemplateError::unsupported(
                        resource.at(&format!("Targets[{index}].Arn")),
                        "devstack delivers rule targets to functions, state machines, queues and log groups of the template",
                    ));
                }
            });
        }
        Ok(Self {
            name: resource.logical_id.clone(),
            logical_id: resource.logical_id.clone(),
            bus: properties.event_bus_name.clone(),
            pattern: properties.event_pattern.clone(),
            targets,
        })
    }
}

fn attempts(policy: Option<&RetryPolicy>) -> u32 {
    policy
        .and_then(|p| p.maximum_retry_attempts)
        .map_or(DEFAULT_TARGET_ATTEMPTS, |retries| retries + 1)
}

impl HttpApi {
    fn new(resource: &Resource, properties: &HttpApiProperties) -> Result<Self, TemplateError> {
        let (issuer, audience) = match properties
            .auth
            .as_ref()
            .and_then(|auth| Some((auth, auth.default_authorizer.as_ref()?)))
        {
            None => (None, Vec::new()),
            Some((auth, name)) => {
                let authorizer = auth.authorizers.get(name).ok_or_else(|| {
                    TemplateError::unsupported(
                        resource.at("Auth.DefaultAuthorizer"),
                        format!("no authorizer named {name}"),
                    )
                })?;
                let jwt = &authorizer.jwt_configuration;
                (Some(jwt.issuer.clone()), jwt.audience.clone())
            }
        };
        Ok(Self {
            logical_id: resource.logical_id.clone(),
            jwt_issuer: issuer,
            jwt_audience: audience,
            cors: properties.cors_configuration.clone(),
        })
    }
}

impl StateMachine {
    fn new(
        resource: &Resource,
        properties: &StateMachineProperties,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        let rules = properties
            .events
            .iter()
            .map(|(name, source)| {
                let StateMachineEventSource::EventBridgeRule(event) = source;
                RuleSpec::from_sam_event(
                    &resource.logical_id,
                    name,
                    event,
                    &resource.at(&format!("Events.{name}")),
                    TargetOwner::StateMachine,
                    template,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            logical_id: resource.logical_id.clone(),
            definition_path: resource.base_dir.join(&properties.definition_uri),
            substitutions: properties.definition_substitutions.clone(),
            kind: properties.kind.clone(),
            logging: properties.logging.clone(),
            rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r"
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: bus}
  DLQ:
    Type: AWS::SQS::Queue
  Log:
    Type: AWS::Logs::LogGroup
  LogRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [{prefix: shop.}]}
      Targets: [{Id: log, Arn: !GetAtt Log.Arn}]
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: machine.asl.json
      Type: EXPRESS
      Events:
        Placed:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {detail-type: [OrderPlaced]}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            JwtConfiguration: {issuer: https://issuer/pool, audience: [client]}
      CorsConfiguration: {AllowOrigins: ['*'], MaxAge: 600}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn-bin}}
    Properties:
      Events:
        List: {Type: HttpApi, Properties: {Method: get, Path: /things, Auth: {Authorizer: NONE}}}
        Create: {Type: HttpApi, Properties: {Method: POST, Path: /things}}
        Changes:
          Type: DynamoDB
          Properties:
            Stream: arn:stream
            StartingPosition: TRIM_HORIZON
            MaximumRetryAttempts: -1
            FunctionResponseTypes: [ReportBatchItemFailures]
        Shipped:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {detail-type: [Shipped]}
            RetryPolicy: {MaximumRetryAttempts: 4}
            DeadLetterConfig: {Arn: !GetAtt DLQ.Arn}
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
        Off: {Type: Schedule, Properties: {Schedule: rate(1 hour), State: DISABLED}}
";

    fn shop() -> Template {
        Template::from_yaml(SHOP).unwrap()
    }

    #[test]
    fn functions_get_lambdas_defaults_and_their_events() {
        let functions = shop().functions().unwrap();
        let function = &functions[0];
        assert_eq!(function.binary, "fn-bin");
        assert_eq!(function.timeout, Duration::from_secs(3));
        assert_eq!(function.memory_mb, 128);
        let routes: Vec<_> = function.http_routes().collect();
        assert_eq!(routes.len(), 2);
        assert!(routes.contains(&&HttpRoute {
            function: "Fn".into(),
            method: "GET".into(),
            path: "/things".into(),
            public: true
        }));
        let stream = function.stream_sources().next().unwrap();
        assert_eq!(stream.starting_position, StartingPosition::TrimHorizon);
        assert!(stream.enabled && stream.report_batch_item_failures);
        assert_eq!(stream.batch_size, 100);
        assert_eq!(
            stream.max_retries, None,
            "-1 retries until the records expire"
        );
    }

    #[test]
    fn schedule_events_are_read_with_their_expression_and_state() {
        let functions = shop().functions().unwrap();
        let schedules: Vec<_> = functions[0].schedules().collect();
        assert_eq!(schedules.len(), 2);
        let tick = schedules.iter().find(|s| s.name == "Fn.Tick").unwrap();
        assert_eq!(tick.logical_id, "FnTick");
        assert_eq!(tick.expression, Value::String("rate(5 minutes)".into()));
        assert!(tick.enabled);
        let off = schedules.iter().find(|s| s.name == "Fn.Off").unwrap();
        assert!(!off.enabled);
    }

    #[test]
    fn a_schedule_with_a_constant_input_is_refused() {
        let yaml = SHOP.replace(
            "Schedule: rate(5 minutes)}",
            "Schedule: rate(5 minutes), Input: '{}'}",
        );
        let message = Template::from_yaml(&yaml).unwrap_err().to_string();
        assert!(message.contains("Input"), "{message}");
    }

    #[test]
    fn rules_come_from_rule_resources_and_sam_events_with_their_targets() {
        let rules = shop().rules().unwrap();
        let names: Vec<_> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["LogRule", "Fn.Shipped", "Machine.Placed"]);
        assert!(matches!(&rules[0].targets[0], EventTarget::Native { id, .. } if id == "log"));
        assert!(matches!(
            &rules[1].targets[0],
            EventTarget::Function { function, max_attempts: 5, dead_letter: Some(_), .. } if function == "Fn"
        ));
        assert!(matches!(
            &rules[2].targets[0],
            EventTarget::StateMachine { state_machine, max_attempts: DEFAULT_TARGET_ATTEMPTS, dead_letter: None, .. } if state_machine == "Machine"
        ));
    }

    #[test]
    fn a_rule_events_dead_letter_queue_must_be_in_the_template() {
        let yaml = SHOP.replace("{Arn: !GetAtt DLQ.Arn}", "{Arn: arn:aws:sqs:elsewhere}");
        let message = Template::from_yaml(&yaml)
            .unwrap()
            .rules()
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("Fn.Properties.Events.Shipped.DeadLetterConfig"),
            "{message}"
        );
    }

    #[test]
    fn input_transformation_is_refused() {
        let yaml = SHOP.replace(
            "RetryPolicy: {MaximumRetryAttempts: 4}",
            "InputPath: $.detail",
        );
        let message = Template::from_yaml(&yaml).unwrap_err().to_string();
        assert!(message.contains("InputPath"), "{message}");
    }

    #[test]
    fn the_http_api_names_its_jwt_settings_and_cors() {
        let api = shop().http_api().unwrap().unwrap();
        assert_eq!(
            api.jwt_issuer,
            Some(Value::String("https://issuer/pool".into()))
        );
        assert_eq!(api.jwt_audience, [Value::String("client".into())]);
        assert_eq!(api.cors.unwrap().max_age, Some(600));
    }

    #[test]
    fn state_machines_are_read_with_their_type_and_definition_path() {
        let machines = shop().state_machines().unwrap();
        assert_eq!(machines[0].kind, Some(Value::String("EXPRESS".into())));
        assert_eq!(
            machines[0].definition_path,
            PathBuf::from("machine.asl.json")
        );
    }
}
