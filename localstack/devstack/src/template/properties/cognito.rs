//! `AWS::Cognito::UserPool`, `UserPoolClient` and `UserPoolGroup`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UserPoolProperties {
    pub user_pool_name: Option<Value>,
    #[serde(default)]
    pub username_attributes: Vec<String>,
    #[serde(default)]
    pub auto_verified_attributes: Vec<String>,
    pub policies: Option<UserPoolPolicies>,
    #[serde(default)]
    pub schema: Vec<SchemaAttribute>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UserPoolPolicies {
    pub password_policy: Option<PasswordPolicy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PasswordPolicy {
    pub minimum_length: Option<Value>,
    pub require_lowercase: Option<bool>,
    pub require_uppercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    /// No local effect: devstack's users are created confirmed, without temporary passwords.
    pub temporary_password_validity_days: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SchemaAttribute {
    pub name: String,
    pub attribute_data_type: String,
    pub required: Option<bool>,
    pub mutable: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UserPoolClientProperties {
    pub user_pool_id: Value,
    pub client_name: Option<Value>,
    pub generate_secret: Option<bool>,
    #[serde(default)]
    pub explicit_auth_flows: Vec<String>,
    /// No local effect: moto answers unknown users its own way and issues tokens valid for
    /// its own fixed times.
    pub prevent_user_existence_errors: Option<Value>,
    pub access_token_validity: Option<Value>,
    pub id_token_validity: Option<Value>,
    pub refresh_token_validity: Option<Value>,
    pub token_validity_units: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UserPoolGroupProperties {
    pub user_pool_id: Value,
    pub group_name: Value,
    pub description: Option<String>,
}
