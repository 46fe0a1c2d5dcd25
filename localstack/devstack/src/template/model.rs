//! The template's resources, and typed views of the parts devstack runs: functions and their
//! events, the HTTP API, rules and state machines.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::{Map, Value};

use super::{TemplateError, yaml};

/// Resource types devstack provisions or emulates. Any other type is an error.
const SUPPORTED: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::Events::Archive",
    "AWS::Logs::LogGroup",
    "AWS::Logs::ResourcePolicy",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Serverless::Function",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::StateMachine",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
];

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
    /// The folder of the template that declared it (relative paths are relative to it).
    pub base_dir: PathBuf,
}

impl Resource {
    pub fn prop(&self, name: &str) -> &Value {
        &self.properties[name]
    }

    pub fn at(&self, property: &str) -> String {
        format!("{}.Properties.{property}", self.logical_id)
    }
}

/// One or more templates merged (the application's, plus overlays such as test fixtures).
#[derive(Debug, Clone, Default)]
pub struct Template {
    pub parameters: Vec<(String, Option<String>)>,
    pub resources: Vec<Resource>,
    function_globals: Map<String, Value>,
}

impl Template {
    pub fn load(paths: &[PathBuf]) -> Result<Self, TemplateError> {
        let mut template = Template::default();
        for path in paths {
            template.merge(path)?;
        }
        Ok(template)
    }

    fn merge(&mut self, path: &Path) -> Result<(), TemplateError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: shown.clone(),
            source,
        })?;
        let parsed: serde_yaml::Value =
            serde_yaml::from_str(&text).map_err(|source| TemplateError::Parse {
                path: shown.clone(),
                source,
            })?;
        let json = yaml::to_json(&parsed, &shown)?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();

        if let Some(globals) = json["Globals"]["Function"].as_object() {
            for (key, value) in globals {
                merge_value(
                    self.function_globals
                        .entry(key.clone())
                        .or_insert(Value::Null),
                    value,
                );
            }
        }
        for (name, parameter) in json["Parameters"].as_object().into_iter().flatten() {
            let default = parameter["Default"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| parameter["Default"].as_number().map(ToString::to_string));
            self.parameters.push((name.clone(), default));
        }
        for (logical_id, resource) in json["Resources"].as_object().into_iter().flatten() {
            let kind = resource["Type"].as_str().unwrap_or_default().to_owned();
            if !SUPPORTED.contains(&kind.as_str()) {
                return Err(TemplateError::unsupported(
                    format!("{logical_id}.Type"),
                    format!("devstack cannot emulate {kind:?}"),
                ));
            }
            if self.resources.iter().any(|r| &r.logical_id == logical_id) {
                return Err(TemplateError::unsupported(
                    logical_id.clone(),
                    "declared twice",
                ));
            }
            self.resources.push(Resource {
                logical_id: logical_id.clone(),
                kind,
                properties: resource["Properties"].clone(),
                metadata: resource["Metadata"].clone(),
                base_dir: base_dir.clone(),
            });
        }
        Ok(())
    }

    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    pub fn functions(&self) -> Result<Vec<Function>, TemplateError> {
        self.of_kind("AWS::Serverless::Function")
            .map(|resource| Function::from_resource(resource, &self.function_globals, self))
            .collect()
    }

    pub fn state_machines(&self) -> Result<Vec<StateMachine>, TemplateError> {
        self.of_kind("AWS::Serverless::StateMachine")
            .map(|resource| StateMachine::from_resource(resource, self))
            .collect()
    }

    pub fn http_api(&self) -> Result<Option<HttpApi>, TemplateError> {
        let mut apis = self.of_kind("AWS::Serverless::HttpApi");
        let Some(api) = apis.next() else {
            return Ok(None);
        };
        if let Some(other) = apis.next() {
            return Err(TemplateError::unsupported(
                &other.logical_id,
                "devstack serves one HttpApi per stack",
            ));
        }
        HttpApi::from_resource(api).map(Some)
    }

    /// Every EventBridge rule: `AWS::Events::Rule` resources and the `EventBridgeRule` events
    /// of functions and state machines.
    pub fn rules(&self) -> Result<Vec<RuleSpec>, TemplateError> {
        let mut rules = Vec::new();
        for resource in self.of_kind("AWS::Events::Rule") {
            rules.push(RuleSpec::from_rule_resource(resource, self)?);
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

    /// The logical id an ARN-valued property refers to (`!GetAtt X.Arn`, `!Ref X`, `!Sub` with
    /// `${X.Arn}`), when it refers to one resource.
    pub fn referenced(&self, value: &Value) -> Option<&Resource> {
        let id = match value {
            Value::Object(map) if map.contains_key("Ref") => map["Ref"].as_str()?.to_owned(),
            Value::Object(map) if map.contains_key("Fn::GetAtt") => {
                map["Fn::GetAtt"][0].as_str()?.to_owned()
            }
            _ => return None,
        };
        self.resource(&id)
    }
}

fn merge_value(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge_value(into.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (into, from) => *into = from.clone(),
    }
}

fn check_keys(value: &Value, allowed: &[&str], at: &str) -> Result<(), TemplateError> {
    for key in value.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !allowed.contains(&key.as_str()) {
            return Err(TemplateError::unsupported(
                format!("{at}.{key}"),
                "devstack does not emulate this property",
            ));
        }
    }
    Ok(())
}

fn u32_prop(value: &Value, at: &str) -> Result<Option<u32>, TemplateError> {
    match value {
        Value::Null => Ok(None),
        other => other
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                TemplateError::unsupported(at, format!("expected a number, found {other}"))
            }),
    }
}

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
}

#[derive(Debug, Clone)]
pub enum FunctionEvent {
    Http(HttpRoute),
    Stream(StreamSource),
    Rule(RuleSpec),
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
    pub at: String,
    pub function: String,
    /// Unresolved stream ARN.
    pub stream: Value,
    pub trim_horizon: bool,
    pub batch_size: usize,
    /// `None`: retry until the records expire (AWS's default of -1).
    pub max_retries: Option<u32>,
    pub report_batch_item_failures: bool,
    pub bisect_on_error: bool,
    /// Unresolved ARN of the on-failure SQS destination.
    pub on_failure: Option<Value>,
}

/// An EventBridge rule with the targets devstack delivers to.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Logical id of the rule, or `<resource>.<event>` for a SAM event.
    pub name: String,
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

/// Lambda's and EventBridge's default for rule targets: 185 attempts over 24 hours. Locally a
/// few attempts with short backoff show the same behaviour without waiting a day.
const DEFAULT_TARGET_ATTEMPTS: u32 = 3;

impl Function {
    fn from_resource(
        resource: &Resource,
        globals: &Map<String, Value>,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        let mut props = Value::Object(globals.clone());
        merge_value(&mut props, &resource.properties);
        let binary = resource.metadata["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| {
                TemplateError::unsupported(
                    format!("{}.Metadata.BuildProperties.Binary", resource.logical_id),
                    "devstack runs rust-cargolambda functions and needs the binary's name",
                )
            })?
            .to_owned();
        let timeout = u32_prop(&props["Timeout"], &resource.at("Timeout"))?.unwrap_or(3);
        let memory_mb = u32_prop(&props["MemorySize"], &resource.at("MemorySize"))?.unwrap_or(128);
        let environment = props["Environment"]["Variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();

        let events = props["Events"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, event)| FunctionEvent::parse(resource, name, event, template))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            logical_id: resource.logical_id.clone(),
            binary,
            timeout: Duration::from_secs(u64::from(timeout)),
            memory_mb,
            environment,
            events,
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
}

impl FunctionEvent {
    fn parse(
        resource: &Resource,
        name: &str,
        event: &Value,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        let at = format!("{}.Properties.Events.{name}", resource.logical_id);
        let event_props = &event["Properties"];
        let event = match event["Type"].as_str().unwrap_or_default() {
            "HttpApi" => {
                check_keys(
                    event_props,
                    &[
                        "ApiId",
                        "Method",
                        "Path",
                        "Auth",
                        "TimeoutInMillis",
                        "PayloadFormatVersion",
                    ],
                    &at,
                )?;
                FunctionEvent::Http(HttpRoute {
                    function: resource.logical_id.clone(),
                    method: event_props["Method"]
                        .as_str()
                        .unwrap_or("ANY")
                        .to_ascii_uppercase(),
                    path: event_props["Path"].as_str().unwrap_or("/").to_owned(),
                    public: event_props["Auth"]["Authorizer"].as_str() == Some("NONE"),
                })
            }
            "DynamoDB" => {
                check_keys(
                    event_props,
                    &[
                        "Stream",
                        "StartingPosition",
                        "BatchSize",
                        "MaximumBatchingWindowInSeconds",
                        "MaximumRetryAttempts",
                        "FunctionResponseTypes",
                        "BisectBatchOnFunctionError",
                        "DestinationConfig",
                        "Enabled",
                        "MaximumRecordAgeInSeconds",
                        "ParallelizationFactor",
                    ],
                    &at,
                )?;
                let retries = event_props["MaximumRetryAttempts"].as_i64();
                FunctionEvent::Stream(StreamSource {
                    at: at.clone(),
                    function: resource.logical_id.clone(),
                    stream: event_props["Stream"].clone(),
                    trim_horizon: event_props["StartingPosition"].as_str() == Some("TRIM_HORIZON"),
                    batch_size: u32_prop(&event_props["BatchSize"], &format!("{at}.BatchSize"))?
                        .unwrap_or(100) as usize,
                    max_retries: retries.and_then(|n| u32::try_from(n).ok()),
                    report_batch_item_failures: event_props["FunctionResponseTypes"]
                        .as_array()
                        .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures")),
                    bisect_on_error: event_props["BisectBatchOnFunctionError"].as_bool()
                        == Some(true),
                    on_failure: event_props["DestinationConfig"]["OnFailure"]
                        .get("Destination")
                        .cloned(),
                })
            }
            "EventBridgeRule" => FunctionEvent::Rule(RuleSpec::from_sam_event(
                &resource.logical_id,
                name,
                event_props,
                &at,
                true,
                template,
            )?),
            other => {
                return Err(TemplateError::unsupported(
                    format!("{at}.Type"),
                    format!("devstack does not emulate {other:?} events"),
                ));
            }
        };
        Ok(event)
    }
}

impl RuleSpec {
    fn from_sam_event(
        owner: &str,
        event_name: &str,
        props: &Value,
        at: &str,
        owner_is_function: bool,
        template: &Template,
    ) -> Result<Self, TemplateError> {
        check_keys(
            props,
            &[
                "EventBusName",
                "Pattern",
                "DeadLetterConfig",
                "RetryPolicy",
                "Target",
                "RuleName",
                "State",
                "InputPath",
                "Input",
            ],
            at,
        )?;
        if props.get("Input").is_some() || props.get("InputPath").is_some() {
            return Err(TemplateError::unsupported(
                format!("{at}.Input"),
                "input transformation is not emulated",
            ));
        }
        let max_attempts = retry_attempts(&props["RetryPolicy"], at)?;
        let dead_letter = dead_letter(&props["DeadLetterConfig"], at, template)?;
        let id = props["Target"]["Id"]
            .as_str()
            .unwrap_or(event_name)
            .to_owned();
        let target = if owner_is_function {
            EventTarget::Function {
                id,
                function: owner.to_owned(),
                max_attempts,
                dead_letter,
            }
        } else {
            EventTarget::StateMachine {
                id,
                state_machine: owner.to_owned(),
                max_attempts,
                dead_letter,
            }
        };
        Ok(Self {
            name: format!("{owner}.{event_name}"),
            bus: props.get("EventBusName").cloned(),
            pattern: props["Pattern"].clone(),
            targets: vec![target],
        })
    }

    fn from_rule_resource(resource: &Resource, template: &Template) -> Result<Self, TemplateError> {
        check_keys(
            &resource.properties,
            &[
                "Description",
                "EventBusName",
                "EventPattern",
                "Name",
                "State",
                "Targets",
            ],
            &resource.at(""),
        )?;
        let mut targets = Vec::new();
        for (index, target) in resource
            .prop("Targets")
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = resource.at(&format!("Targets[{index}]"));
            check_keys(
                target,
                &["Id", "Arn", "RetryPolicy", "DeadLetterConfig", "RoleArn"],
                &at,
            )?;
            let id = target["Id"].as_str().unwrap_or_default().to_owned();
            let max_attempts = retry_attempts(&target["RetryPolicy"], &at)?;
            let dead_letter = target["DeadLetterConfig"].get("Arn").cloned();
            let referenced = template.referenced(&target["Arn"]);
            targets.push(match referenced.map(|r| (r.kind.as_str(), r.logical_id.clone())) {
                Some(("AWS::Serverless::Function", function)) => {
                    EventTarget::Function { id, function, max_attempts, dead_letter }
                }
                Some(("AWS::Serverless::StateMachine", state_machine)) => {
                    EventTarget::StateMachine { id, state_machine, max_attempts, dead_letter }
                }
                Some(("AWS::SQS::Queue" | "AWS::Logs::LogGroup", _)) => {
                    EventTarget::Native { id, arn: target["Arn"].clone() }
                }
                _ => {
                    return Err(TemplateError::unsupported(
                        format!("{at}.Arn"),
                        "devstack delivers rule targets to functions, state machines, queues and log groups of the template",
                    ));
                }
            });
        }
        Ok(Self {
            name: resource.logical_id.clone(),
            bus: resource.properties.get("EventBusName").cloned(),
            pattern: resource.prop("EventPattern").clone(),
            targets,
        })
    }
}

fn retry_attempts(policy: &Value, at: &str) -> Result<u32, TemplateError> {
    Ok(u32_prop(
        &policy["MaximumRetryAttempts"],
        &format!("{at}.RetryPolicy.MaximumRetryAttempts"),
    )?
    .map_or(DEFAULT_TARGET_ATTEMPTS, |retries| retries + 1))
}

fn dead_letter(
    config: &Value,
    at: &str,
    template: &Template,
) -> Result<Option<Value>, TemplateError> {
    if config.is_null() {
        return Ok(None);
    }
    match config.get("Arn") {
        Some(arn) if template.referenced(arn).is_some() => Ok(Some(arn.clone())),
        _ => Err(TemplateError::unsupported(
            format!("{at}.DeadLetterConfig"),
            "give the DLQ as Arn: !GetAtt <queue in this template>.Arn",
        )),
    }
}

/// The template's HTTP API.
#[derive(Debug, Clone)]
pub struct HttpApi {
    pub logical_id: String,
    /// The default authorizer's JWT settings (unresolved), when routes need a token.
    pub jwt_issuer: Option<Value>,
    pub jwt_audience: Vec<Value>,
    pub cors: Option<Value>,
}

impl HttpApi {
    fn from_resource(resource: &Resource) -> Result<Self, TemplateError> {
        check_keys(
            &resource.properties,
            &[
                "StageName",
                "Auth",
                "CorsConfiguration",
                "DefaultRouteSettings",
                "Description",
                "FailOnWarnings",
            ],
            &resource.at(""),
        )?;
        let auth = resource.prop("Auth");
        let (issuer, audience) = match auth["DefaultAuthorizer"].as_str() {
            None => (None, Vec::new()),
            Some(name) => {
                let authorizer = &auth["Authorizers"][name];
                let jwt = &authorizer["JwtConfiguration"];
                if jwt.is_null() {
                    return Err(TemplateError::unsupported(
                        resource.at(&format!("Auth.Authorizers.{name}")),
                        "devstack emulates JWT authorizers only",
                    ));
                }
                (
                    Some(jwt["issuer"].clone()),
                    jwt["audience"].as_array().cloned().unwrap_or_default(),
                )
            }
        };
        Ok(Self {
            logical_id: resource.logical_id.clone(),
            jwt_issuer: issuer,
            jwt_audience: audience,
            cors: resource.properties.get("CorsConfiguration").cloned(),
        })
    }
}

/// A Step Functions state machine of the template.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub logical_id: String,
    pub definition_path: PathBuf,
    /// Unresolved substitutions for `${name}` placeholders in the definition.
    pub substitutions: Map<String, Value>,
    pub express: bool,
    pub rules: Vec<RuleSpec>,
}

impl StateMachine {
    fn from_resource(resource: &Resource, template: &Template) -> Result<Self, TemplateError> {
        check_keys(
            &resource.properties,
            &[
                "DefinitionUri",
                "DefinitionSubstitutions",
                "Type",
                "Policies",
                "Events",
                "Name",
                "Logging",
                "Tracing",
                "Role",
            ],
            &resource.at(""),
        )?;
        let uri = resource.prop("DefinitionUri").as_str().ok_or_else(|| {
            TemplateError::unsupported(
                resource.at("DefinitionUri"),
                "devstack needs a local definition file",
            )
        })?;
        let mut rules = Vec::new();
        for (name, event) in resource.prop("Events").as_object().into_iter().flatten() {
            let at = resource.at(&format!("Events.{name}"));
            if event["Type"].as_str() != Some("EventBridgeRule") {
                return Err(TemplateError::unsupported(
                    format!("{at}.Type"),
                    "only EventBridgeRule events are emulated",
                ));
            }
            rules.push(RuleSpec::from_sam_event(
                &resource.logical_id,
                name,
                &event["Properties"],
                &at,
                false,
                template,
            )?);
        }
        Ok(Self {
            logical_id: resource.logical_id.clone(),
            definition_path: resource.base_dir.join(uri),
            substitutions: resource
                .prop("DefinitionSubstitutions")
                .as_object()
                .cloned()
                .unwrap_or_default(),
            express: resource.prop("Type").as_str() == Some("EXPRESS"),
            rules,
        })
    }
}
