//! Every function's execution role, enforced on the AWS calls the function makes.
//!
//! On AWS a function calls other services with its role's credentials, and IAM refuses any
//! call its policies do not allow. moto checks actions only, never resources (its DynamoDB
//! requests carry resource `*`), so the check lives here: each function process gets access
//! keys of its own, the edge reads who signed a call and what the call does
//! ([`super::calls`]), and refuses it with AccessDeniedException, naming the missing
//! permission, unless the function's statements from the template allow every action in it.
//! Calls signed with any other key (devstack itself, tests, a developer's CLI) act as the
//! account's administrator, as they would with admin credentials on AWS.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use serde_json::Value;

use super::{
    calls::{self, Needed, Reading, Scope},
    policy::{self, Decision},
};

/// The access key id a function's process signs its calls with.
pub fn access_key_id(function_logical_id: &str) -> String {
    format!("LOCALROLE{function_logical_id}")
}

/// The ARN devstack gives a function's execution role.
pub fn role_arn(function_name: &str) -> String {
    format!("arn:aws:iam::{}:role/{function_name}Role", crate::ACCOUNT)
}

/// One function's role: its deployed name and its statements (intrinsics resolved).
#[derive(Debug, Clone)]
pub struct Role {
    pub function: String,
    pub function_name: String,
    pub statements: Vec<Value>,
}

/// A call a role does not allow, as AWS words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub function: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ExecutionRoles {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    region: String,
    account: String,
    /// By access key id.
    roles: HashMap<String, Role>,
    /// (function, statement index, action) of every allowed call.
    used: Mutex<BTreeSet<(String, usize, String)>>,
}

impl ExecutionRoles {
    pub fn new(region: &str, account: &str, roles: impl IntoIterator<Item = Role>) -> Self {
        Self {
            inner: Arc::new(Inner {
                region: region.to_owned(),
                account: account.to_owned(),
                roles: roles
                    .into_iter()
                    .map(|role| (access_key_id(&role.function), role))
                    .collect(),
                used: Mutex::default(),
            }),
        }
    }

    /// The role of the function that signed a call with this `Authorization` header, if any.
    pub fn signer(&self, authorization: Option<&str>) -> Option<&Role> {
        let credential = authorization?.split("Credential=").nth(1)?;
        let key_id = credential.split('/').next()?;
        self.inner.roles.get(key_id)
    }

    /// Whether `role` may make the JSON-protocol call `target` with `body`. `aliases` maps KMS
    /// alias names to key ids (read from the emulator only for KMS calls that use one).
    pub fn check(
        &self,
        role: &Role,
        target: Option<&str>,
        body: &[u8],
        aliases: &HashMap<String, String>,
    ) -> Result<(), Denied> {
        let scope = Scope {
            region: &self.inner.region,
            account: &self.inner.account,
        };
        let reading = match target {
            Some(target) => calls::read(target, body, scope, |alias| aliases.get(alias).cloned()),
            None => Reading::Unreadable("a call without X-Amz-Target".to_owned()),
        };
        let needs = match reading {
            Reading::Public => return Ok(()),
            Reading::Needs(needs) => needs,
            Reading::Unreadable(what) => {
                return Err(denied(
                    role,
                    format!(
                        "devstack cannot tell which IAM actions and resources {what} needs, so it refuses the call rather than let it pass unchecked (teach devstack::iam::calls to read it)"
                    ),
                ));
            }
        };
        for needed in &needs {
            self.check_one(role, needed)?;
        }
        Ok(())
    }

    /// Whether `role` may invoke the function `arn` (the Lambda Invoke API, which the edge
    /// answers itself).
    pub fn check_invoke(&self, role: &Role, arn: &str) -> Result<(), Denied> {
        self.check_lambda(role, "lambda:InvokeFunction", arn)
    }

    /// Whether `role` may make a Lambda API call (`lambda:UpdateFunctionCode`, ...) on
    /// `resource`, a function's ARN or `*`.
    pub fn check_lambda(&self, role: &Role, action: &str, resource: &str) -> Result<(), Denied> {
        self.check_one(
            role,
            &Needed {
                action: action.to_owned(),
                resource: resource.to_owned(),
                context: Vec::new(),
            },
        )
    }

    /// The function (logical id) whose execution role has this ARN.
    pub fn function_of_role(&self, arn: &str) -> Option<String> {
        self.inner
            .roles
            .values()
            .find(|role| role_arn(&role.function_name) == arn)
            .map(|role| role.function.clone())
    }

    fn check_one(&self, role: &Role, needed: &Needed) -> Result<(), Denied> {
        let context: Vec<(&str, &str)> = needed
            .context
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = policy::Request {
            service: None,
            action: &needed.action,
            resource: &needed.resource,
            context: &context,
        };
        let (decision, allowing) = policy::evaluate(&role.statements, &request);
        let because = match decision {
            Decision::Allow => {
                let mut used = self.inner.used.lock().expect("the usage record");
                for statement in allowing {
                    used.insert((role.function.clone(), statement, needed.action.clone()));
                }
                return Ok(());
            }
            Decision::ExplicitDeny => "with an explicit deny in an identity-based policy",
            Decision::ImplicitDeny => "because no identity-based policy allows the action",
        };
        let conditions = if context.is_empty() {
            String::new()
        } else {
            let keys: Vec<String> = context.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(" (request context: {})", keys.join(", "))
        };
        Err(denied(
            role,
            format!(
                "User: arn:aws:sts::{}:assumed-role/{}Role/{} is not authorized to perform: {} on resource: {} {because}{conditions}",
                self.inner.account,
                role.function_name,
                role.function_name,
                needed.action,
                needed.resource,
            ),
        ))
    }

    /// Per function, the actions of its Allow statements that no call has used so far: grants
    /// to review for least privilege. A statement's action patterns count as used when an
    /// allowed call's action matches them.
    pub fn unused_grants(&self) -> Value {
        let used = self.inner.used.lock().expect("the usage record");
        let mut roles: Vec<&Role> = self.inner.roles.values().collect();
        roles.sort_by(|a, b| a.function.cmp(&b.function));
        let mut report = serde_json::Map::new();
        for role in roles {
            let mut unused = Vec::new();
            for (index, statement) in role.statements.iter().enumerate() {
                if statement["Effect"] != "Allow" {
                    continue;
                }
                let actions: Vec<&str> = policy::strings(&statement["Action"])
                    .filter(|pattern| {
                        !used.iter().any(|(function, at, action)| {
                            *function == role.function
                                && *at == index
                                && policy::any_glob(&Value::from(*pattern), action, true)
                        })
                    })
                    .collect();
                if !actions.is_empty() {
                    unused.push(serde_json::json!({
                        "statement": statement.get("Sid").cloned().unwrap_or(Value::from(index)),
                        "actions": actions,
                        "resources": statement["Resource"],
                    }));
                }
            }
            if !unused.is_empty() {
                report.insert(role.function.clone(), Value::Array(unused));
            }
        }
        Value::Object(report)
    }
}

fn denied(role: &Role, message: String) -> Denied {
    Denied {
        function: role.function.clone(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders";

    fn roles() -> ExecutionRoles {
        ExecutionRoles::new(
            "us-east-1",
            "123456789012",
            [Role {
                function: "OrdersFn".to_owned(),
                function_name: "shop-OrdersFn".to_owned(),
                statements: vec![
                    json!({"Sid": "Orders", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE}),
                    json!({"Sid": "Publish", "Effect": "Allow", "Action": "events:PutEvents",
                           "Resource": "arn:aws:events:us-east-1:123456789012:event-bus/shop",
                           "Condition": {"StringEquals": {"events:source": "shop.orders"}}}),
                ],
            }],
        )
    }

    fn header(key: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={key}/20261128/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
        )
    }

    fn call(target: &str, body: &Value) -> Result<(), Denied> {
        let roles = roles();
        let header = header(&access_key_id("OrdersFn"));
        let role = roles.signer(Some(&header)).expect("the function's key");
        roles.check(
            role,
            Some(target),
            body.to_string().as_bytes(),
            &HashMap::new(),
        )
    }

    #[test]
    fn only_a_functions_own_key_is_checked() {
        let roles = roles();
        assert!(roles.signer(Some(&header("test"))).is_none());
        assert!(roles.signer(None).is_none());
        assert_eq!(
            roles
                .signer(Some(&header(&access_key_id("OrdersFn"))))
                .map(|r| r.function.as_str()),
            Some("OrdersFn")
        );
    }

    #[test]
    fn a_call_on_the_granted_table_passes_and_another_table_is_refused_by_name() {
        assert_eq!(
            call(
                "DynamoDB_20120810.GetItem",
                &json!({"TableName": "Orders", "Key": {}})
            ),
            Ok(())
        );
        let denied = call(
            "DynamoDB_20120810.GetItem",
            &json!({"TableName": "Payments", "Key": {}}),
        )
        .unwrap_err();
        assert!(
            denied
                .message
                .contains("not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Payments"),
            "{}",
            denied.message
        );
    }

    #[test]
    fn an_index_is_a_resource_of_its_own() {
        let denied = call(
            "DynamoDB_20120810.GetItem",
            &json!({"TableName": "Orders", "IndexName": "by-customer"}),
        );
        assert!(
            denied
                .unwrap_err()
                .message
                .contains("table/Orders/index/by-customer")
        );
    }

    #[test]
    fn every_item_of_a_transaction_needs_its_own_action() {
        let put_and_delete = json!({"TransactItems": [
            {"Put": {"TableName": "Orders", "Item": {}}},
            {"Delete": {"TableName": "Orders", "Key": {}}},
        ]});
        let denied = call("DynamoDB_20120810.TransactWriteItems", &put_and_delete).unwrap_err();
        assert!(
            denied.message.contains("dynamodb:DeleteItem"),
            "{}",
            denied.message
        );
    }

    #[test]
    fn a_publisher_may_put_only_its_own_source() {
        let entry = |source: &str| json!({"Entries": [{"EventBusName": "shop", "Source": source, "DetailType": "OrderPlaced", "Detail": "{}"}]});
        assert_eq!(call("AWSEvents.PutEvents", &entry("shop.orders")), Ok(()));
        let denied = call("AWSEvents.PutEvents", &entry("shop.payments")).unwrap_err();
        assert!(
            denied.message.contains("events:source=shop.payments"),
            "{}",
            denied.message
        );
    }

    #[test]
    fn public_cognito_calls_need_no_grant_and_unreadable_calls_are_refused() {
        assert_eq!(
            call(
                "AWSCognitoIdentityProviderService.SignUp",
                &json!({"ClientId": "x"})
            ),
            Ok(())
        );
        let denied = call("AmazonSSM.GetParameter", &json!({"Name": "/x"})).unwrap_err();
        assert!(denied.message.contains("cannot tell"), "{}", denied.message);
    }

    #[test]
    fn grants_no_call_used_are_reported() {
        let roles = roles();
        let header = header(&access_key_id("OrdersFn"));
        let role = roles.signer(Some(&header)).expect("the function's key");
        roles
            .check(
                role,
                Some("DynamoDB_20120810.GetItem"),
                br#"{"TableName": "Orders"}"#,
                &HashMap::new(),
            )
            .expect("allowed");
        let report = roles.unused_grants();
        assert_eq!(
            report["OrdersFn"],
            json!([
                {"statement": "Orders", "actions": ["dynamodb:PutItem"], "resources": TABLE},
                {"statement": "Publish", "actions": ["events:PutEvents"], "resources": "arn:aws:events:us-east-1:123456789012:event-bus/shop"},
            ])
        );
    }
}
