//! `AWS::SQS::Queue`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct QueueProperties {
    pub queue_name: Option<Value>,
    pub visibility_timeout: Option<Value>,
    pub message_retention_period: Option<Value>,
    pub redrive_policy: Option<Value>,
    /// No local effect: moto does not encrypt.
    pub sqs_managed_sse_enabled: Option<Value>,
}
