//! What IAM authorizes for one AWS API call: each action the call performs, the resource it
//! acts on and the condition keys it sets, read from the request as AWS's authorization layer
//! reads it. Only the JSON protocols the shop's SDK clients speak are read (DynamoDB,
//! EventBridge, Step Functions, Cognito, SQS, KMS); a call devstack cannot read is refused
//! rather than waved through.

use serde_json::Value;

/// One action to authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub action: String,
    pub resource: String,
    /// Condition keys and values, a set-valued key once per member.
    pub context: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Every one of these must be allowed.
    Needs(Vec<Needed>),
    /// A public Cognito operation: AWS authorizes it with the app client id or a user's token,
    /// never with IAM.
    Public,
    /// A call devstack cannot map to its actions and resources.
    Unreadable(String),
}

/// Where the caller's ARNs live.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub account: &'a str,
}

/// Cognito operations that take an app client id, a user's access token or a confirmation code
/// instead of IAM credentials.
const COGNITO_PUBLIC: &[&str] = &[
    "SignUp",
    "ConfirmSignUp",
    "InitiateAuth",
    "RespondToAuthChallenge",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "ResendConfirmationCode",
    "GetUser",
    "ChangePassword",
    "GlobalSignOut",
    "RevokeToken",
    "GetTokensFromRefreshToken",
];

/// The authorizations the call `target` (its `X-Amz-Target` header) with JSON `body` needs.
/// `key_of_alias` resolves a KMS alias name to its key id.
pub fn read(
    target: &str,
    body: &[u8],
    scope: Scope<'_>,
    key_of_alias: impl Fn(&str) -> Option<String>,
) -> Reading {
    let Some((prefix, operation)) = target.split_once('.') else {
        return Reading::Unreadable(format!("X-Amz-Target {target}"));
    };
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let needs = match prefix {
        "DynamoDB_20120810" => dynamodb(operation, &body, scope),
        "AWSEvents" => eventbridge(operation, &body, scope),
        "AWSStepFunctions" => step_functions(operation, &body, scope),
        "AWSCognitoIdentityProviderService" if COGNITO_PUBLIC.contains(&operation) => {
            return Reading::Public;
        }
        "AWSCognitoIdentityProviderService" => cognito(operation, &body, scope),
        "AmazonSQS" => sqs(operation, &body, scope),
        "TrentService" => kms(operation, &body, scope, key_of_alias),
        _ => None,
    };
    match needs {
        Some(needs) if !needs.is_empty() => Reading::Needs(needs),
        _ => Reading::Unreadable(target.to_owned()),
    }
}

fn need(service: &str, operation: &str, resource: String) -> Needed {
    Needed {
        action: format!("{service}:{operation}"),
        resource,
        context: Vec::new(),
    }
}

fn arn(scope: Scope<'_>, service: &str, rest: &str) -> String {
    format!(
        "arn:aws:{service}:{}:{}:{rest}",
        scope.region, scope.account
    )
}

/// A table named by name or ARN (DynamoDB accepts both).
fn table_arn(scope: Scope<'_>, table: &Value) -> Option<String> {
    let table = table.as_str()?;
    Some(if table.starts_with("arn:") {
        table.to_owned()
    } else {
        arn(scope, "dynamodb", &format!("table/{table}"))
    })
}

/// DynamoDB authorizes a transaction or a batch as the item operations it contains, each on its
/// table; queries and scans of an index act on the index's ARN.
fn dynamodb(operation: &str, body: &Value, scope: Scope<'_>) -> Option<Vec<Needed>> {
    let per_table = |action: &str| -> Option<Vec<Needed>> {
        body["RequestItems"]
            .as_object()?
            .keys()
            .map(|table| {
                table_arn(scope, &Value::String(table.clone()))
                    .map(|arn| need("dynamodb", action, arn))
            })
            .collect()
    };
    match operation {
        "BatchGetItem" | "BatchWriteItem" => per_table(operation),
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()?
            .iter()
            .map(|item| {
                let (kind, inner) = item.as_object()?.iter().next()?;
                let action = match kind.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    "Get" => "GetItem",
                    _ => return None,
                };
                Some(need(
                    "dynamodb",
                    action,
                    table_arn(scope, &inner["TableName"])?,
                ))
            })
            .collect(),
        "ListTables" => Some(vec![need("dynamodb", operation, "*".to_owned())]),
        _ => {
            let table = table_arn(scope, &body["TableName"])?;
            let resource = match body["IndexName"].as_str() {
                Some(index) => format!("{table}/index/{index}"),
                None => table,
            };
            Some(vec![need("dynamodb", operation, resource)])
        }
    }
}

/// A bus named by name or ARN; no name is the account's default bus.
fn bus_arn(scope: Scope<'_>, bus: &Value) -> String {
    match bus.as_str() {
        Some(arn) if arn.starts_with("arn:") => arn.to_owned(),
        Some(name) => arn(scope, "events", &format!("event-bus/{name}")),
        None => arn(scope, "events", "event-bus/default"),
    }
}

/// PutEvents is authorized per entry, on the entry's bus, with the entry's `source` and
/// `detail-type` as condition keys (what `events:source` conditions on publishers check).
fn eventbridge(operation: &str, body: &Value, scope: Scope<'_>) -> Option<Vec<Needed>> {
    match operation {
        "PutEvents" => body["Entries"]
            .as_array()?
            .iter()
            .map(|entry| {
                let mut needed = need("events", operation, bus_arn(scope, &entry["EventBusName"]));
                for (key, field) in [
                    ("events:source", "Source"),
                    ("events:detail-type", "DetailType"),
                ] {
                    if let Some(value) = entry[field].as_str() {
                        needed.context.push((key.to_owned(), value.to_owned()));
                    }
                }
                Some(needed)
            })
            .collect(),
        "DescribeEventBus" => Some(vec![need(
            "events",
            operation,
            bus_arn(scope, &body["Name"]),
        )]),
        _ => None,
    }
}

fn step_functions(operation: &str, body: &Value, _scope: Scope<'_>) -> Option<Vec<Needed>> {
    let resource = ["stateMachineArn", "executionArn"]
        .iter()
        .find_map(|field| body[*field].as_str())?;
    Some(vec![need("states", operation, resource.to_owned())])
}

fn cognito(operation: &str, body: &Value, scope: Scope<'_>) -> Option<Vec<Needed>> {
    let pool = body["UserPoolId"].as_str()?;
    Some(vec![need(
        "cognito-idp",
        operation,
        arn(scope, "cognito-idp", &format!("userpool/{pool}")),
    )])
}

/// SQS authorizes a batch as its single operation; a queue URL ends in `<account>/<name>`.
fn sqs(operation: &str, body: &Value, scope: Scope<'_>) -> Option<Vec<Needed>> {
    let resource = match body["QueueUrl"].as_str() {
        Some(url) => {
            let mut segments = url.trim_end_matches('/').rsplit('/');
            let name = segments.next()?;
            let account = segments.next()?;
            format!("arn:aws:sqs:{}:{account}:{name}", scope.region)
        }
        None => arn(scope, "sqs", body["QueueName"].as_str()?),
    };
    let action = operation.strip_suffix("Batch").unwrap_or(operation);
    Some(vec![need("sqs", action, resource)])
}

/// KMS authorizes on the key a call resolves to: an alias stands for its key, and Decrypt
/// without a key id uses the key that encrypted the ciphertext. The encryption context's keys
/// and values are condition keys.
fn kms(
    operation: &str,
    body: &Value,
    scope: Scope<'_>,
    key_of_alias: impl Fn(&str) -> Option<String>,
) -> Option<Vec<Needed>> {
    let key = match body["KeyId"].as_str() {
        Some(id) => match alias_name(id) {
            Some(alias) => key_of_alias(&alias)?,
            None => id.to_owned(),
        },
        None => key_of_ciphertext(body["CiphertextBlob"].as_str()?)?,
    };
    let resource = if key.starts_with("arn:") {
        key
    } else {
        arn(scope, "kms", &format!("key/{key}"))
    };
    let mut needed = need("kms", operation, resource);
    if let Some(context) = body["EncryptionContext"].as_object() {
        for (name, value) in context {
            let value = value.as_str().unwrap_or_default().to_owned();
            needed
                .context
                .push((format!("kms:EncryptionContext:{name}"), value));
            needed
                .context
                .push(("kms:EncryptionContextKeys".to_owned(), name.clone()));
        }
    }
    Some(vec![needed])
}

/// `alias/<name>` of an alias given by name or ARN.
fn alias_name(key_id: &str) -> Option<String> {
    if key_id.starts_with("alias/") {
        return Some(key_id.to_owned());
    }
    let (_, name) = key_id.split_once(":alias/")?;
    Some(format!("alias/{name}"))
}

/// moto's ciphertext starts with the 36 characters of the key id (its own format; real KMS
/// ciphertext also names its key, in a format of its own).
fn key_of_ciphertext(blob: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()?;
    let id = std::str::from_utf8(bytes.get(..36)?).ok()?;
    Some(id.to_owned())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use serde_json::json;

    use super::*;

    const SCOPE: Scope<'static> = Scope {
        region: "us-east-1",
        account: "123456789012",
    };
    const KEY: &str = "0d3e5f6a-1b2c-4d5e-8f90-123456789abc";

    fn needs(target: &str, body: &Value) -> Vec<Needed> {
        let aliases = |alias: &str| (alias == "alias/cards").then(|| KEY.to_owned());
        match read(target, body.to_string().as_bytes(), SCOPE, aliases) {
            Reading::Needs(needs) => needs,
            other => panic!("{target}: {other:?}"),
        }
    }

    #[test]
    fn a_batch_write_needs_the_batch_action_on_every_table_it_touches() {
        let body = json!({"RequestItems": {"A": [], "B": []}});
        let resources: Vec<String> = needs("DynamoDB_20120810.BatchWriteItem", &body)
            .into_iter()
            .map(|n| format!("{} {}", n.action, n.resource))
            .collect();
        assert_eq!(
            resources,
            [
                "dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:123456789012:table/A",
                "dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:123456789012:table/B",
            ]
        );
    }

    #[test]
    fn an_sqs_batch_is_authorized_as_its_single_operation_on_the_queue_of_its_url() {
        let body = json!({"QueueUrl": "http://localhost:4566/123456789012/parking", "Entries": []});
        let needed = &needs("AmazonSQS.SendMessageBatch", &body)[0];
        assert_eq!(needed.action, "sqs:SendMessage");
        assert_eq!(
            needed.resource,
            "arn:aws:sqs:us-east-1:123456789012:parking"
        );
    }

    #[test]
    fn kms_acts_on_the_key_behind_an_alias_or_inside_the_ciphertext() {
        let encrypt = json!({"KeyId": "alias/cards", "Plaintext": "eA==", "EncryptionContext": {"order_id": "o-1"}});
        let needed = &needs("TrentService.Encrypt", &encrypt)[0];
        assert_eq!(
            needed.resource,
            format!("arn:aws:kms:us-east-1:123456789012:key/{KEY}")
        );
        assert!(needed.context.contains(&(
            "kms:EncryptionContext:order_id".to_owned(),
            "o-1".to_owned()
        )));
        let mut blob = KEY.as_bytes().to_vec();
        blob.extend([0_u8; 40]);
        let blob = base64::engine::general_purpose::STANDARD.encode(blob);
        let decrypt = json!({"CiphertextBlob": blob});
        assert_eq!(
            needs("TrentService.Decrypt", &decrypt)[0].resource,
            format!("arn:aws:kms:us-east-1:123456789012:key/{KEY}")
        );
    }

    #[test]
    fn an_unknown_service_or_an_unresolvable_alias_cannot_be_read() {
        let unknown = read("AmazonSSM.GetParameter", b"{}", SCOPE, |_| None);
        assert!(matches!(unknown, Reading::Unreadable(_)));
        let alias = read(
            "TrentService.Encrypt",
            br#"{"KeyId": "alias/other"}"#,
            SCOPE,
            |_| None,
        );
        assert!(matches!(alias, Reading::Unreadable(_)));
    }
}
