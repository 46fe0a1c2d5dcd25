//! `AWS::SSM::Parameter`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ParameterProperties {
    pub name: Option<Value>,
    /// CloudFormation creates `String` and `StringList` parameters only (never `SecureString`).
    #[serde(rename = "Type")]
    pub kind: String,
    pub value: Value,
    pub description: Option<Value>,
}
