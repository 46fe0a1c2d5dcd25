//! IAM policy documents, evaluated for the questions devstack must answer itself because moto
//! stores policies without checking them: may EventBridge send a rule's undeliverable events to
//! the rule's DLQ (the queue's resource policy), may a function send failed events to its
//! on-failure destination, and may a function make the AWS call it just made (its execution
//! role). As in IAM: an explicit deny wins, then any allow; anything else is denied.
//! Conditions are understood with the string and ARN operators (plain, negated, `IfExists`, and
//! the `ForAnyValue:`/`ForAllValues:` set forms) on whatever keys the request carries; a
//! statement with any other operator does not match, so devstack errs towards refusing.

use serde_json::Value;

/// One request to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The calling AWS service (`events.amazonaws.com`) for resource policies; `None` for an
    /// identity policy, which has no principal.
    pub service: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    /// The condition keys the request sets (`aws:SourceArn`, `events:source`, ...); a key that
    /// holds a set (`kms:EncryptionContextKeys`) appears once per member.
    pub context: &'a [(&'a str, &'a str)],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// The decision of `statements` (each a policy statement, intrinsics resolved) on `request`.
pub fn decide(statements: &[Value], request: &Request<'_>) -> Decision {
    evaluate(statements, request).0
}

/// The decision, and the indexes of the statements that allowed it (so a caller can tell which
/// grants were ever used).
pub fn evaluate(statements: &[Value], request: &Request<'_>) -> (Decision, Vec<usize>) {
    let mut allowing = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        if !matches(statement, request) {
            continue;
        }
        match statement["Effect"].as_str() {
            Some("Deny") => return (Decision::ExplicitDeny, Vec::new()),
            Some("Allow") => allowing.push(index),
            _ => {}
        }
    }
    if allowing.is_empty() {
        (Decision::ImplicitDeny, allowing)
    } else {
        (Decision::Allow, allowing)
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
        keys.as_object().is_some_and(|keys| {
            keys.iter().all(|(key, expected)| {
                let actual: Vec<&str> = request
                    .context
                    .iter()
                    .filter(|(name, _)| name.eq_ignore_ascii_case(key))
                    .map(|(_, value)| *value)
                    .collect();
                condition_holds(operator, expected, &actual)
            })
        })
    })
}

/// One condition operator on one key, as IAM evaluates it: a plain operator needs a value that
/// matches, a negated one no value that matches; `IfExists` holds when the key is absent;
/// `ForAllValues:` needs every value of a set to match (and holds for an empty set),
/// `ForAnyValue:` at least one.
fn condition_holds(operator: &str, expected: &Value, actual: &[&str]) -> bool {
    let (set, operator) = match operator.split_once(':') {
        Some((set @ ("ForAllValues" | "ForAnyValue"), rest)) => (Some(set), rest),
        _ => (None, operator),
    };
    let (operator, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let Some((compare, negated)) = comparison(operator) else {
        return false;
    };
    let matches = |value: &&str| strings(expected).any(|e| compare(e, value)) != negated;
    match set {
        Some("ForAllValues") => actual.iter().all(matches),
        None if actual.is_empty() => if_exists || negated,
        None if negated => actual.iter().all(matches),
        _ => actual.iter().any(matches),
    }
}

/// Compares a condition's expected value with the request's.
type Compare = fn(&str, &str) -> bool;

/// The comparison of a condition operator, and whether it is negated.
fn comparison(operator: &str) -> Option<(Compare, bool)> {
    let equals: Compare = |e, a| e == a;
    let equals_ignore_case: Compare = |e, a| e.eq_ignore_ascii_case(a);
    let like: Compare = |e, a| glob(e, a, false);
    Some(match operator {
        "StringEquals" | "ArnEquals" => (equals, false),
        "StringNotEquals" | "ArnNotEquals" => (equals, true),
        "StringEqualsIgnoreCase" => (equals_ignore_case, false),
        "StringNotEqualsIgnoreCase" => (equals_ignore_case, true),
        "StringLike" | "ArnLike" => (like, false),
        "StringNotLike" | "ArnNotLike" => (like, true),
        _ => return None,
    })
}

pub(super) fn any_glob(patterns: &Value, text: &str, ignore_case: bool) -> bool {
    strings(patterns).any(|pattern| glob(pattern, text, ignore_case))
}

pub(super) fn strings(value: &Value) -> impl Iterator<Item = &str> {
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

    /// The decision on EventBridge sending a failed delivery of rule `source_arn` to `QUEUE`.
    fn eventbridge(policy: &[Value], source_arn: &str) -> Decision {
        let request = Request {
            service: Some("events.amazonaws.com"),
            action: "sqs:SendMessage",
            resource: QUEUE,
            context: &[("aws:SourceArn", source_arn)],
        };
        decide(policy, &request)
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
        assert_eq!(eventbridge(&policy, RULE), Decision::Allow);
    }

    #[test]
    fn another_rule_or_no_policy_is_refused() {
        let policy = queue_policy(&json!({"ArnEquals": {"aws:SourceArn": RULE}}));
        assert_eq!(
            eventbridge(
                &policy,
                "arn:aws:events:us-east-1:123456789012:rule/shop/other"
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(eventbridge(&[], RULE), Decision::ImplicitDeny);
    }

    #[test]
    fn arn_like_matches_with_wildcards_and_an_unknown_condition_never_matches() {
        let like =
            queue_policy(&json!({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/shop/*"}}));
        assert_eq!(eventbridge(&like, RULE), Decision::Allow);
        let other = queue_policy(&json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}));
        assert_eq!(eventbridge(&other, RULE), Decision::ImplicitDeny);
    }

    #[test]
    fn an_explicit_deny_wins() {
        let mut policy = queue_policy(&Value::Null);
        policy
            .push(json!({"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}));
        assert_eq!(eventbridge(&policy, RULE), Decision::ExplicitDeny);
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
            context: &[],
        };
        assert_eq!(decide(&statements, &send), Decision::Allow);
        let elsewhere = Request {
            resource: "arn:aws:sqs:us-east-1:123456789012:other",
            ..send
        };
        assert_eq!(decide(&statements, &elsewhere), Decision::ImplicitDeny);
    }

    fn with_condition(condition: &Value) -> Vec<Value> {
        vec![
            json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": condition}),
        ]
    }

    fn decrypt(statements: &[Value], context: &[(&str, &str)]) -> Decision {
        let request = Request {
            service: None,
            action: "kms:Decrypt",
            resource: "arn:aws:kms:us-east-1:123456789012:key/k",
            context,
        };
        decide(statements, &request)
    }

    #[test]
    fn set_operators_test_every_or_any_value_of_a_multivalued_key() {
        let only_order_id = with_condition(
            &json!({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["order_id"]}}),
        );
        let keys = |names: &[&'static str]| -> Vec<(&'static str, &'static str)> {
            names
                .iter()
                .map(|n| ("kms:EncryptionContextKeys", *n))
                .collect()
        };
        assert_eq!(
            decrypt(&only_order_id, &keys(&["order_id"])),
            Decision::Allow
        );
        assert_eq!(
            decrypt(&only_order_id, &keys(&["order_id", "other"])),
            Decision::ImplicitDeny
        );
        let any = with_condition(
            &json!({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "order_id"}}),
        );
        assert_eq!(
            decrypt(&any, &keys(&["other", "order_id"])),
            Decision::Allow
        );
        assert_eq!(decrypt(&any, &[]), Decision::ImplicitDeny);
    }

    #[test]
    fn a_missing_key_fails_a_plain_operator_and_passes_a_negated_or_if_exists_one() {
        let plain =
            with_condition(&json!({"StringEquals": {"kms:EncryptionContext:order_id": "o"}}));
        let negated =
            with_condition(&json!({"StringNotEquals": {"kms:EncryptionContext:order_id": "o"}}));
        let if_exists = with_condition(
            &json!({"StringEqualsIfExists": {"kms:EncryptionContext:order_id": "o"}}),
        );
        assert_eq!(decrypt(&plain, &[]), Decision::ImplicitDeny);
        assert_eq!(decrypt(&negated, &[]), Decision::Allow);
        assert_eq!(decrypt(&if_exists, &[]), Decision::Allow);
        let other = [("kms:EncryptionContext:order_id", "x")];
        assert_eq!(decrypt(&plain, &other), Decision::ImplicitDeny);
        assert_eq!(decrypt(&negated, &other), Decision::Allow);
        assert_eq!(decrypt(&if_exists, &other), Decision::ImplicitDeny);
    }
}
