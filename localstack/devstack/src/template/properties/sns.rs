//! `AWS::SNS::Topic`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TopicProperties {
    pub topic_name: Option<Value>,
    /// No local effect: moto stores messages unencrypted.
    pub kms_master_key_id: Option<Value>,
}
