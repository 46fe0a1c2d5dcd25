//! SAM's `AWS::Serverless::Function` (with `Globals.Function` merged in), `HttpApi` and
//! `StateMachine`, and the event sources devstack stands in for.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::events::{DeadLetterConfig, RetryPolicy};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FunctionProperties {
    pub timeout: Option<u32>,
    pub memory_size: Option<u32>,
    pub environment: Option<Environment>,
    #[serde(default)]
    pub events: BTreeMap<String, FunctionEventSource>,
    pub event_invoke_config: Option<EventInvokeConfig>,
    /// Where the code is and how it is packaged: devstack runs the cargo binary named in the
    /// resource's `Metadata` instead.
    pub code_uri: Option<Value>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    /// Any value, intrinsics included (the template takes it from a parameter): devstack runs
    /// host binaries whatever the instruction set.
    pub architectures: Option<Value>,
    pub description: Option<String>,
    /// The execution role's statements, enforced by the edge on the function's calls.
    pub policies: Option<Value>,
    /// `Active` or `PassThrough`: devstack records no traces, but passes Lambda's trace header
    /// in X-Ray's format, sampled when `Active`.
    pub tracing: Option<String>,
    pub logging_config: Option<LoggingConfig>,
    /// SAM publishes a version on every deploy and points this alias at it; the function's
    /// HTTP routes invoke the alias. devstack publishes version 1 at start and routes there.
    pub auto_publish_alias: Option<String>,
    /// CodeDeploy's gradual shift of the alias to a new version, rolled back by alarms.
    /// Accepted, not emulated: locally the alias moves at once (see [`Template::not_emulated`]).
    ///
    /// [`Template::not_emulated`]: crate::template::Template::not_emulated
    pub deployment_preference: Option<Value>,
}

/// Where Lambda sends the function's logs. Locally they go to one file per function in the
/// log folder; the group's name reaches the function as `AWS_LAMBDA_LOG_GROUP_NAME`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LoggingConfig {
    pub log_group: Option<Value>,
    /// No local effect: the functions write JSON lines themselves.
    pub log_format: Option<String>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Environment {
    /// Values may be intrinsics, resolved when the function starts.
    pub variables: Map<String, Value>,
}

/// How Lambda handles the function's asynchronous invocations (rule targets, `Event`
/// invokes): retries, the oldest event it still runs, and where a failed event goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_in_seconds: Option<u32>,
    pub destination_config: Option<EventInvokeDestinations>,
}

/// Only an SQS on-failure destination is emulated.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EventInvokeDestinations {
    pub on_failure: OnFailure,
}

/// `Metadata` of a function: devstack runs `rust-cargolambda` builds.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionMetadata {
    pub build_properties: BuildProperties,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildProperties {
    /// The cargo binary that is the function.
    pub binary: String,
}

/// A function's event source; any other `Type` is refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "Type", content = "Properties", deny_unknown_fields)]
pub enum FunctionEventSource {
    HttpApi(HttpApiEvent),
    DynamoDB(DynamoDbEvent),
    EventBridgeRule(EventBridgeRuleEvent),
    Schedule(ScheduleEvent),
}

/// SAM's `Schedule` event: an EventBridge rule with a schedule expression whose target is the
/// function. A constant `Input`, retries and a DLQ of the rule are refused: devstack does not
/// emulate them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ScheduleEvent {
    /// `rate(...)` or `cron(...)`; may be an intrinsic.
    pub schedule: Value,
    /// The rule's name; `<stack>-<function>-<event>` without one.
    pub name: Option<Value>,
    pub description: Option<String>,
    /// `false`: the rule exists but never fires.
    pub enabled: Option<bool>,
    /// `ENABLED` or `DISABLED`, as `Enabled`.
    pub state: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct HttpApiEvent {
    pub method: Option<String>,
    pub path: Option<String>,
    pub auth: Option<RouteAuth>,
    /// devstack serves the template's one HTTP API.
    pub api_id: Option<Value>,
    /// The function's own timeout bounds the call locally.
    pub timeout_in_millis: Option<Value>,
    /// devstack speaks payload format 2.0 only.
    pub payload_format_version: Option<PayloadFormatVersion>,
}

#[derive(Debug, Clone, Deserialize)]
pub enum PayloadFormatVersion {
    #[serde(rename = "2.0")]
    V2,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RouteAuth {
    /// `NONE`: the route needs no token; otherwise the API's default authorizer.
    pub authorizer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DynamoDbEvent {
    pub stream: Value,
    pub starting_position: StartingPosition,
    pub batch_size: Option<u32>,
    pub maximum_retry_attempts: Option<i64>,
    #[serde(default)]
    pub function_response_types: Vec<FunctionResponseType>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub destination_config: Option<DestinationConfig>,
    pub maximum_batching_window_in_seconds: Option<u32>,
    pub enabled: Option<bool>,
    /// -1 (the default): records of any age are sent.
    pub maximum_record_age_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum FunctionResponseType {
    ReportBatchItemFailures,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DestinationConfig {
    pub on_failure: OnFailure,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct OnFailure {
    #[serde(rename = "Type")]
    pub kind: Option<DestinationKind>,
    pub destination: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum DestinationKind {
    #[serde(rename = "SQS")]
    Sqs,
}

/// SAM's `EventBridgeRule` event of a function or state machine. Input transformation
/// (`Input`, `InputPath`) is refused: devstack does not emulate it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EventBridgeRuleEvent {
    pub event_bus_name: Option<Value>,
    pub pattern: Value,
    pub retry_policy: Option<RetryPolicy>,
    pub dead_letter_config: Option<DeadLetterConfig>,
    pub target: Option<SamRuleTarget>,
    pub rule_name: Option<Value>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SamRuleTarget {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct HttpApiProperties {
    pub auth: Option<HttpApiAuth>,
    pub cors_configuration: Option<CorsConfiguration>,
    /// devstack serves one stage at the root.
    pub stage_name: Option<Value>,
    /// Not emulated: devstack does not throttle.
    pub default_route_settings: Option<Value>,
    /// Not emulated: the local gateway writes no access log (its refusals go to devstack's
    /// own log).
    pub access_log_settings: Option<Value>,
    pub description: Option<String>,
    pub fail_on_warnings: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct HttpApiAuth {
    pub default_authorizer: Option<String>,
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
}

/// An HTTP API authorizer; only JWT authorizers are emulated (a Lambda authorizer's
/// `FunctionArn` is an unknown field here).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Authorizer {
    pub identity_source: Option<String>,
    pub jwt_configuration: JwtConfiguration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub struct JwtConfiguration {
    pub issuer: Value,
    #[serde(default)]
    pub audience: Vec<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CorsConfiguration {
    #[serde(default)]
    pub allow_origins: Vec<String>,
    #[serde(default)]
    pub allow_methods: Vec<String>,
    #[serde(default)]
    pub allow_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StateMachineProperties {
    /// A local file, relative to the template.
    pub definition_uri: String,
    #[serde(default)]
    pub definition_substitutions: BTreeMap<String, Value>,
    /// `STANDARD` (the default) or `EXPRESS`, or an intrinsic that gives one (the template
    /// lets a parameter choose), resolved when the machine is created.
    #[serde(rename = "Type")]
    pub kind: Option<Value>,
    #[serde(default)]
    pub events: BTreeMap<String, StateMachineEventSource>,
    /// Not enforced or recorded locally.
    pub policies: Option<Value>,
    pub role: Option<Value>,
    pub logging: Option<Value>,
    pub tracing: Option<Value>,
    /// devstack names it `<stack>-<logical id>` like CloudFormation does without a name.
    pub name: Option<Value>,
}

/// A state machine's event source; only EventBridge rules are emulated.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "Type", content = "Properties", deny_unknown_fields)]
pub enum StateMachineEventSource {
    EventBridgeRule(EventBridgeRuleEvent),
}
