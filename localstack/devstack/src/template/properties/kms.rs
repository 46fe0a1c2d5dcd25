//! `AWS::KMS::Key`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyProperties {
    pub description: Option<Value>,
    /// `SYMMETRIC_DEFAULT` when absent, as in CloudFormation.
    pub key_spec: Option<String>,
    /// `ENCRYPT_DECRYPT` when absent, as in CloudFormation.
    pub key_usage: Option<String>,
    pub enable_key_rotation: Option<bool>,
    /// Stored on the emulator; moto does not evaluate key policies (see `provision::kms`).
    pub key_policy: Option<Value>,
}
