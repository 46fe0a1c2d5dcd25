//! `AWS::Logs::LogGroup`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LogGroupProperties {
    pub log_group_name: Option<Value>,
    /// No local effect: moto keeps log events until it stops.
    pub retention_in_days: Option<Value>,
}
