//! IAM policy documents, evaluated for the questions devstack must answer itself because moto
//! stores policies without checking them: may EventBridge send a rule's undeliverable events to
//! the rule's DLQ (the queue's resource policy), and may a function send failed events to its
//! on-failure destination (its execution role). As in IAM: an explicit deny wins, then any
//! allow; anything else is denied. Conditions are understood for `aws:SourceArn` with the ARN
//! and string operators; a statement with any other condition does not match, so devstack
//! errs towards refusing.

use serde_json::Value;

/// One request to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The calling AWS service (`events.amazonaws.com`) for resource policies; `None` for an
    /// identity policy, which has no principal.
    pub service: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    pub source_arn: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// The decision of `statements` (each a policy statement, intrinsics resolved) on `request`.
pub fn decide(statements: &[Value], request: &Request<'_>) -> Decision {
    let mut allowed = false;
    for statement in statements {
        if !matches(statement, request) {
            continue;
        }
        match statement["Effect"].as_str() {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// The statements of a policy document (`Statement` may be one object or a list).
pub fn statements(document: &Value) -> Vec<Value> {
    match &document["Statement"] {
        Value::Array(statements) => statements.clone(),
        Value::Object(_) => vec![document["Statement"].clone()],
        _ => Vec::new(),
    }
}

fn matches(statement: &Value, request: &Request<'_>) -> bool {
    principal_matches(&statement["Principal"], request.service)
        && any_glob(&statement["Action"], request.action, true)
        && any_glob(&statement["Resource"], request.resource, false)
        && conditions_hold(&statement["Condition"], request)
}

fn principal_matches(principal: &Value, service: Option<&str>) -> bool {
    match (principal, service) {
        (Value::Null, None) => true,
        (Value::String(any), Some(_)) => any == "*",
        (Value::Object(map), Some(service)) => {
            map.get("Service")
                .is_some_and(|services| strings(services).any(|s| s == service))
                || map
                    .get("AWS")
                    .is_some_and(|aws| strings(aws).any(|s| s == "*"))
        }
        _ => false,
    }
}

fn conditions_hold(conditions: &Value, request: &Request<'_>) -> bool {
    let Some(conditions) = conditions.as_object() else {
        return conditions.is_null();
    };
    conditions.iter().all(|(operator, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(key, expected)| {
            if !key.eq_ignore_ascii_case("aws:SourceArn") {
                return false;
            }
            let Some(actual) = request.source_arn else {
                return false;
            };
            match operator.as_str() {
                "ArnEquals" | "StringEquals" => strings(expected).any(|e| e == actual),
                "ArnLike" | "StringLike" => strings(expected).any(|e| glob(e, actual, false)),
                _ => false,
            }
        })
    })
}

fn any_glob(patterns: &Value, text: &str, ignore_case: bool) -> bool {
    strings(patterns).any(|pattern| glob(pattern, text, ignore_case))
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match value {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (pattern, text) = if ignore_case {
        (pattern.to_ascii_lowercase(), text.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), text.to_owned())
    };
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The statements of a SAM function's `Policies`: inline documents, and the SAM policy
/// templates devstack needs to read (`SQSSendMessagePolicy`), expanded as SAM expands them.
/// Managed policy names and other templates grant nothing devstack checks.
pub fn function_statements(
    policies: &Value,
    queue_arn_of_name: impl Fn(&Value) -> Option<String>,
) -> Vec<Value> {
    let list: Vec<&Value> = match policies {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let mut out = Vec::new();
    for policy in list {
        if policy.get("Statement").is_some() {
            out.extend(statements(policy));
        } else if let Some(arn) = policy
            .get("SQSSendMessagePolicy")
            .and_then(|template| queue_arn_of_name(&template["QueueName"]))
        {
            out.push(serde_json::json!({
                "Effect": "Allow",
                "Action": ["sqs:SendMessage*"],
                "Resource": arn,
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:dlq";
    const RULE: &str = "arn:aws:events:us-east-1:123456789012:rule/shop/orders";

    fn eventbridge(source_arn: &str) -> Request<'_> {
        Request {
            service: Some("events.amazonaws.com"),
            action: "sqs:SendMessage",
            resource: QUEUE,
            source_arn: Some(source_arn),
        }
    }

    fn queue_policy(condition: &Value) -> Vec<Value> {
        vec![json!({
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": QUEUE,
            "Condition": condition,
        })]
    }

    #[test]
    fn a_queue_policy_for_exactly_this_rule_allows_eventbridge() {
        let policy = queue_policy(&json!({"ArnEquals": {"aws:SourceArn": RULE}}));
        assert_eq!(decide(&policy, &eventbridge(RULE)), Decision::Allow);
    }

    #[test]
    fn another_rule_or_no_policy_is_refused() {
        let policy = queue_policy(&json!({"ArnEquals": {"aws:SourceArn": RULE}}));
        assert_eq!(
            decide(
                &policy,
                &eventbridge("arn:aws:events:us-east-1:123456789012:rule/shop/other")
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(decide(&[], &eventbridge(RULE)), Decision::ImplicitDeny);
    }

    #[test]
    fn arn_like_matches_with_wildcards_and_an_unknown_condition_never_matches() {
        let like =
            queue_policy(&json!({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/shop/*"}}));
        assert_eq!(decide(&like, &eventbridge(RULE)), Decision::Allow);
        let other = queue_policy(&json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}));
        assert_eq!(decide(&other, &eventbridge(RULE)), Decision::ImplicitDeny);
    }

    #[test]
    fn an_explicit_deny_wins() {
        let mut policy = queue_policy(&Value::Null);
        policy
            .push(json!({"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}));
        assert_eq!(decide(&policy, &eventbridge(RULE)), Decision::ExplicitDeny);
    }

    #[test]
    fn sam_policy_templates_and_inline_statements_make_a_roles_statements() {
        let policies = json!([
            {"SQSSendMessagePolicy": {"QueueName": "dlq"}},
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "arn:table"}]},
            "AWSXrayWriteOnlyAccess"
        ]);
        let statements = function_statements(&policies, |name| {
            Some(format!(
                "arn:aws:sqs:us-east-1:123456789012:{}",
                name.as_str()?
            ))
        });
        assert_eq!(statements.len(), 2);
        let send = Request {
            service: None,
            action: "sqs:SendMessage",
            resource: QUEUE,
            source_arn: None,
        };
        assert_eq!(decide(&statements, &send), Decision::Allow);
        let elsewhere = Request {
            resource: "arn:aws:sqs:us-east-1:123456789012:other",
            ..send
        };
        assert_eq!(decide(&statements, &elsewhere), Decision::ImplicitDeny);
    }
}
