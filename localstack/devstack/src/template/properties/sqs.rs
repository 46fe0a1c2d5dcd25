//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`.

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

/// A queue's resource policy. moto stores it without checking it; devstack checks it where AWS
/// would (a rule's DLQ must let EventBridge send to it).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct QueuePolicyProperties {
    /// The queues' URLs (`!Ref Queue`).
    pub queues: Vec<Value>,
    pub policy_document: Value,
}
