//! KMS keys of the template. moto encrypts for real (AES-GCM under key material of its own)
//! and binds a ciphertext to its encryption context: a Decrypt with another context is
//! refused with `InvalidCiphertextException`, as on AWS. It stores a key policy without
//! evaluating it, so what AWS refuses at `CreateKey` is refused here first, from the template.

use aws_sdk_kms::{
    Client,
    types::{KeySpec, KeyUsageType},
};
use serde_json::Value;

use super::ProvisionError;
use crate::template::{
    Attribute, Properties, Resolver, Resource, Template, TemplateError,
    properties::kms::KeyProperties,
};

/// What CloudFormation asks of KMS for one key, resolved and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPlan {
    pub description: Option<String>,
    pub key_spec: String,
    pub key_usage: String,
    pub rotation: bool,
    /// The key policy as JSON text, when the template gives one (else KMS's default).
    pub policy: Option<String>,
}

impl KeyPlan {
    pub fn new(
        resource: &Resource,
        key: &KeyProperties,
        resolver: &Resolver,
    ) -> Result<Self, TemplateError> {
        let key_spec = key
            .key_spec
            .clone()
            .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_owned());
        let rotation = key.enable_key_rotation.unwrap_or(false);
        // AWS rotates only symmetric encryption keys automatically; EnableKeyRotation on any
        // other spec fails the deployment (KMS Developer Guide, "Rotating KMS keys").
        if rotation && key_spec != "SYMMETRIC_DEFAULT" {
            return Err(TemplateError::unsupported(
                resource.at("EnableKeyRotation"),
                format!("AWS rotates only SYMMETRIC_DEFAULT keys automatically, not {key_spec}"),
            ));
        }
        let policy = match &key.key_policy {
            None => None,
            Some(policy) => {
                let policy = resolver.resolve(policy, &resource.at("KeyPolicy"))?;
                if !account_may_put_key_policy(&policy, resolver.account()) {
                    return Err(TemplateError::unsupported(
                        resource.at("KeyPolicy"),
                        "KMS refuses a key policy that would lock the account out of the key: \
                         it must let the account (arn:aws:iam::<account>:root) call \
                         kms:PutKeyPolicy",
                    ));
                }
                Some(policy.to_string())
            }
        };
        let description = key
            .description
            .as_ref()
            .map(|d| resolver.resolve_string(d, &resource.at("Description")))
            .transpose()?;
        Ok(Self {
            description,
            key_spec,
            key_usage: key
                .key_usage
                .clone()
                .unwrap_or_else(|| "ENCRYPT_DECRYPT".to_owned()),
            rotation,
            policy,
        })
    }
}

/// KMS's policy lockout safety check: `CreateKey` (and `PutKeyPolicy`) refuse a policy that
/// does not let the principal making the request change the policy later, unless the caller
/// bypasses the check (KMS API Reference, CreateKey, `BypassPolicyLockoutSafetyCheck`).
/// CloudFormation's caller is whoever deploys, which devstack cannot know; it holds the policy
/// to letting the account itself (and so, through IAM, the deployer) call `kms:PutKeyPolicy`
/// without conditions and with no deny in the way. That refuses every policy AWS refuses for
/// a deployer of the account, and some that name the deployer's role directly.
pub fn account_may_put_key_policy(policy: &Value, account: &str) -> bool {
    let root = format!("arn:aws:iam::{account}:root");
    let names_account = |statement: &Value| {
        let principal = &statement["Principal"];
        principal == "*"
            || strings(&principal["AWS"]).any(|p| p == "*" || p == root || p == account)
    };
    let grants_put = |statement: &Value| {
        strings(&statement["Action"]).any(|action| {
            let action = action.to_ascii_lowercase();
            action == "*"
                || action == "kms:*"
                || action == "kms:putkeypolicy"
                || action == "kms:put*"
        })
    };
    let statements: Vec<&Value> = match &policy["Statement"] {
        Value::Array(statements) => statements.iter().collect(),
        statement @ Value::Object(_) => vec![statement],
        _ => Vec::new(),
    };
    let denied = statements.iter().any(|s| {
        s["Effect"] == "Deny" && s["Condition"].is_null() && names_account(s) && grants_put(s)
    });
    let allowed = statements.iter().any(|s| {
        s["Effect"] == "Allow" && s["Condition"].is_null() && names_account(s) && grants_put(s)
    });
    allowed && !denied
}

/// A string or a list of strings, as policy fields may be.
fn strings(value: &Value) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match value {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::Key(key) = &resource.properties else {
            continue;
        };
        let plan = KeyPlan::new(resource, key, resolver)?;
        let id = &resource.logical_id;
        let created = client
            .create_key()
            .set_description(plan.description)
            .key_spec(KeySpec::from(plan.key_spec.as_str()))
            .key_usage(KeyUsageType::from(plan.key_usage.as_str()))
            .set_policy(plan.policy)
            .send()
            .await
            .map_err(ProvisionError::aws(id, "CreateKey"))?;
        let metadata = created.key_metadata.ok_or_else(|| ProvisionError::Aws {
            resource: id.clone(),
            operation: "CreateKey",
            source: "the answer has no key metadata".into(),
        })?;
        if plan.rotation {
            client
                .enable_key_rotation()
                .key_id(&metadata.key_id)
                .send()
                .await
                .map_err(ProvisionError::aws(id, "EnableKeyRotation"))?;
        }
        // As CloudFormation: `!Ref` is the key id, `!GetAtt .Arn` its ARN.
        resolver.set(id, Attribute::Arn, metadata.arn.unwrap_or_default());
        resolver.set(id, Attribute::Ref, metadata.key_id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn resolver() -> Resolver {
        Resolver::new("us-east-1", "123456789012", "shop-local", HashMap::new())
    }

    fn plan(yaml: &str) -> Result<KeyPlan, TemplateError> {
        let template = Template::from_yaml(yaml).unwrap();
        let resource = &template.resources[0];
        let Properties::Key(key) = &resource.properties else {
            panic!("a key");
        };
        KeyPlan::new(resource, key, &resolver())
    }

    const ADMINISTERED: &str = r#"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub seals (${AWS::StackName})
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
"#;

    #[test]
    fn a_symmetric_key_the_account_administers_is_created_with_rotation_and_its_policy() {
        let plan = plan(ADMINISTERED).unwrap();
        assert_eq!(plan.description.as_deref(), Some("seals (shop-local)"));
        assert_eq!(
            (
                plan.key_spec.as_str(),
                plan.key_usage.as_str(),
                plan.rotation
            ),
            ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", true)
        );
        let policy: Value = serde_json::from_str(&plan.policy.unwrap()).unwrap();
        assert_eq!(
            policy["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
    }

    #[test]
    fn rotation_of_an_asymmetric_key_is_refused_as_aws_refuses_it() {
        let yaml = ADMINISTERED.replace(
            "EnableKeyRotation: true",
            "EnableKeyRotation: true\n      KeySpec: RSA_2048",
        );
        let error = plan(&yaml).unwrap_err().to_string();
        assert!(
            error.contains("Key.Properties.EnableKeyRotation") && error.contains("RSA_2048"),
            "{error}"
        );
    }

    #[test]
    fn a_policy_that_locks_the_account_out_is_refused_as_kms_refuses_it() {
        let yaml = ADMINISTERED.replace("Action: kms:*", "Action: [kms:Encrypt, kms:Decrypt]");
        let error = plan(&yaml).unwrap_err().to_string();
        assert!(
            error.contains("Key.Properties.KeyPolicy") && error.contains("PutKeyPolicy"),
            "{error}"
        );
    }

    #[test]
    fn the_lockout_check_reads_principals_actions_conditions_and_denies() {
        let account = "123456789012";
        let allow = |principal: Value, action: Value| json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}]});
        let root = json!({"AWS": "arn:aws:iam::123456789012:root"});
        assert!(account_may_put_key_policy(
            &allow(root.clone(), json!("kms:*")),
            account
        ));
        assert!(account_may_put_key_policy(
            &allow(json!({"AWS": account}), json!(["kms:PutKeyPolicy"])),
            account
        ));
        assert!(!account_may_put_key_policy(
            &allow(
                json!({"AWS": "arn:aws:iam::999999999999:root"}),
                json!("kms:*")
            ),
            account
        ));
        assert!(!account_may_put_key_policy(
            &allow(json!({"Service": "logs.amazonaws.com"}), json!("kms:*")),
            account
        ));
        let mut conditional = allow(root.clone(), json!("kms:*"));
        conditional["Statement"][0]["Condition"] =
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
        assert!(!account_may_put_key_policy(&conditional, account));
        let mut denied = allow(root, json!("kms:*"));
        denied["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*"}));
        assert!(!account_may_put_key_policy(&denied, account));
    }

    #[test]
    fn a_property_devstack_does_not_know_is_an_error_naming_it() {
        let yaml = ADMINISTERED.replace("EnableKeyRotation: true", "MultiRegion: true");
        let error = Template::from_yaml(&yaml).unwrap_err().to_string();
        assert!(error.contains("Key.Properties.MultiRegion"), "{error}");
    }
}
