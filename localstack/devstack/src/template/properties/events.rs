//! `AWS::Events::EventBus`, `AWS::Events::Rule` and `AWS::Events::Archive`, and the parts of a
//! rule SAM's `EventBridgeRule` events share with them.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EventBusProperties {
    pub name: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ArchiveProperties {
    pub source_arn: Value,
    pub retention_days: Option<i32>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RuleProperties {
    pub description: Option<String>,
    pub event_bus_name: Option<Value>,
    pub event_pattern: Value,
    pub name: Option<Value>,
    pub state: Option<String>,
    #[serde(default)]
    pub targets: Vec<RuleTarget>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RuleTarget {
    pub id: String,
    pub arn: Value,
    pub retry_policy: Option<RetryPolicy>,
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// No local effect: the emulator enforces no IAM.
    pub role_arn: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RetryPolicy {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_in_seconds: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeadLetterConfig {
    pub arn: Value,
}
