//! CloudFormation intrinsic functions, resolved against the names devstack gave the resources.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{ResourceKind, Template, TemplateError};

/// What a reference can ask of a resource: `!Ref` or one `!GetAtt` attribute. Only the
/// attributes devstack records exist; anything else in the template is an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    Ref,
    Arn,
    Name,
    StreamArn,
    QueueUrl,
    QueueName,
    ProviderName,
    ProviderUrl,
    /// An EventBridge rule's bare name (`!Ref` of a rule on a custom bus is `bus|rule`, which
    /// no API or metric dimension takes).
    RuleName,
    TopicName,
}

impl Attribute {
    fn from_get_att(name: &str) -> Option<Self> {
        Some(match name {
            "Arn" => Self::Arn,
            "Name" => Self::Name,
            "StreamArn" => Self::StreamArn,
            "QueueUrl" => Self::QueueUrl,
            "QueueName" => Self::QueueName,
            "ProviderName" => Self::ProviderName,
            "ProviderURL" => Self::ProviderUrl,
            "RuleName" => Self::RuleName,
            "TopicName" => Self::TopicName,
            _ => return None,
        })
    }
}

/// Knows every value a reference can resolve to: pseudo parameters, template parameters and
/// the attributes of resources provisioned so far.
#[derive(Debug, Clone)]
pub struct Resolver {
    region: String,
    account: String,
    stack: String,
    parameters: HashMap<String, String>,
    attributes: HashMap<(String, Attribute), String>,
    /// The template's HTTP API (logical id) and the URL devstack serves it at.
    local_api: Option<(String, String)>,
}

impl Resolver {
    pub fn new(
        region: &str,
        account: &str,
        stack: &str,
        parameters: HashMap<String, String>,
    ) -> Self {
        Self {
            region: region.into(),
            account: account.into(),
            stack: stack.into(),
            parameters,
            attributes: HashMap::new(),
            local_api: None,
        }
    }

    /// Serves the template's HTTP API at `local_url`. Its invoke URL as AWS gives it,
    /// `https://{api id}.execute-api.{region}.amazonaws.com` (what `!Sub` or `!Join` build from
    /// `!Ref`), names a host only AWS serves: a value built from it resolves to the local
    /// gateway instead, so a function that calls the API through its public URL reaches it.
    pub fn serve_api(&mut self, template: &Template, local_url: &str) {
        self.local_api = template
            .of_kind(ResourceKind::HttpApi)
            .next()
            .map(|api| (api.logical_id.clone(), local_url.to_owned()));
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// Records what `!Ref logical_id` ([`Attribute::Ref`]) or `!GetAtt logical_id.attribute` is.
    pub fn set(&mut self, logical_id: &str, attribute: Attribute, value: impl Into<String>) {
        self.attributes
            .insert((logical_id.to_owned(), attribute), value.into());
    }

    pub fn get(&self, logical_id: &str, attribute: Attribute) -> Option<&str> {
        self.attributes
            .get(&(logical_id.to_owned(), attribute))
            .map(String::as_str)
    }

    /// Like [`Resolver::get`], for an attribute the caller needs: its absence is an error
    /// naming where it was needed.
    pub fn require(
        &self,
        logical_id: &str,
        attribute: Attribute,
        at: &str,
    ) -> Result<&str, TemplateError> {
        self.get(logical_id, attribute).ok_or_else(|| {
            TemplateError::unsupported(
                at,
                format!("{logical_id} has no {attribute:?} devstack provisioned"),
            )
        })
    }

    /// `value` with every intrinsic function replaced by its result.
    pub fn resolve(&self, value: &Value, at: &str) -> Result<Value, TemplateError> {
        match value {
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|item| self.resolve(item, at))
                    .collect::<Result<_, _>>()?,
            )),
            Value::Object(map) if map.len() == 1 => {
                let (key, argument) = map.iter().next().expect("one entry");
                match key.as_str() {
                    "Ref" => self.reference(argument, at).map(Value::String),
                    "Fn::GetAtt" => self.get_att(argument, at).map(Value::String),
                    "Fn::Sub" => self.sub(argument, at).map(|s| Value::String(self.local(s))),
                    "Fn::Join" => self
                        .join(argument, at)
                        .map(|s| Value::String(self.local(s))),
                    other if other.starts_with("Fn::") || other == "Condition" => {
                        Err(TemplateError::unsupported(
                            at,
                            format!("devstack does not evaluate {other}"),
                        ))
                    }
                    _ => self.resolve_map(map, at),
                }
            }
            Value::Object(map) => self.resolve_map(map, at),
            other => Ok(other.clone()),
        }
    }

    /// Like [`Resolver::resolve`], for a value that must end up a string.
    pub fn resolve_string(&self, value: &Value, at: &str) -> Result<String, TemplateError> {
        match self.resolve(value, at)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(TemplateError::unsupported(
                at,
                format!("expected a string, found {other}"),
            )),
        }
    }

    fn resolve_map(&self, map: &Map<String, Value>, at: &str) -> Result<Value, TemplateError> {
        let mut out = Map::new();
        for (key, value) in map {
            out.insert(key.clone(), self.resolve(value, &format!("{at}.{key}"))?);
        }
        Ok(Value::Object(out))
    }

    /// `text` with the HTTP API's invoke URL replaced by its local URL ([`Resolver::serve_api`]).
    fn local(&self, text: String) -> String {
        let Some((api, local_url)) = &self.local_api else {
            return text;
        };
        let Some(id) = self.get(api, Attribute::Ref) else {
            return text;
        };
        let invoke_url = format!("https://{id}.execute-api.{}.amazonaws.com", self.region);
        match text.strip_prefix(&invoke_url) {
            Some(path) if path.is_empty() || path.starts_with('/') => format!("{local_url}{path}"),
            _ => text,
        }
    }

    fn reference(&self, argument: &Value, at: &str) -> Result<String, TemplateError> {
        let name = argument
            .as_str()
            .ok_or_else(|| TemplateError::unsupported(at, "!Ref takes a name"))?;
        self.lookup(name, Attribute::Ref, at)
    }

    fn get_att(&self, argument: &Value, at: &str) -> Result<String, TemplateError> {
        match argument.as_array().map(Vec::as_slice) {
            Some([Value::String(resource), Value::String(attribute)]) => {
                self.get_att_named(resource, attribute, at)
            }
            _ => Err(TemplateError::unsupported(
                at,
                format!("!GetAtt {argument}"),
            )),
        }
    }

    fn get_att_named(
        &self,
        resource: &str,
        attribute: &str,
        at: &str,
    ) -> Result<String, TemplateError> {
        let known = Attribute::from_get_att(attribute).ok_or_else(|| {
            TemplateError::unsupported(
                at,
                format!("!GetAtt {resource}.{attribute}: devstack records no such attribute"),
            )
        })?;
        self.lookup(resource, known, at)
    }

    fn lookup(&self, name: &str, attribute: Attribute, at: &str) -> Result<String, TemplateError> {
        if attribute == Attribute::Ref {
            let pseudo = match name {
                "AWS::Region" => Some(self.region.clone()),
                "AWS::AccountId" => Some(self.account.clone()),
                "AWS::StackName" => Some(self.stack.clone()),
                "AWS::Partition" => Some("aws".to_owned()),
                "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
                _ => None,
            };
            if let Some(value) = pseudo.or_else(|| self.parameters.get(name).cloned()) {
                return Ok(value);
            }
        }
        self.get(name, attribute).map(str::to_owned).ok_or_else(|| {
            let what = if attribute == Attribute::Ref {
                format!("!Ref {name}")
            } else {
                format!("!GetAtt {name}.{attribute:?}")
            };
            TemplateError::unsupported(at, format!("{what} names nothing devstack provisions"))
        })
    }

    fn sub(&self, argument: &Value, at: &str) -> Result<String, TemplateError> {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), Map::new()),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(text), Value::Object(variables)] => {
                    (text.as_str(), variables.clone())
                }
                _ => {
                    return Err(TemplateError::unsupported(
                        at,
                        "!Sub takes a string or [string, map]",
                    ));
                }
            },
            _ => {
                return Err(TemplateError::unsupported(
                    at,
                    "!Sub takes a string or [string, map]",
                ));
            }
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| TemplateError::unsupported(at, format!("unclosed ${{ in {text}")))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(&self.resolve_string(value, at)?);
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.get_att_named(resource, attribute, at)?);
            } else {
                out.push_str(&self.lookup(name, Attribute::Ref, at)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn join(&self, argument: &Value, at: &str) -> Result<String, TemplateError> {
        match argument.as_array().map(Vec::as_slice) {
            Some([Value::String(delimiter), Value::Array(items)]) => Ok(items
                .iter()
                .map(|item| self.resolve_string(item, at))
                .collect::<Result<Vec<_>, _>>()?
                .join(delimiter)),
            _ => Err(TemplateError::unsupported(
                at,
                "!Join takes [delimiter, [values]]",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resolver() -> Resolver {
        let mut resolver = Resolver::new(
            "us-east-1",
            "123456789012",
            "shop-local",
            HashMap::from([("Stage".to_owned(), "local".to_owned())]),
        );
        resolver.set("UserPool", Attribute::Ref, "us-east-1_abc");
        resolver.set("Table", Attribute::Ref, "shop-local-Table");
        resolver.set("Table", Attribute::StreamArn, "arn:stream");
        resolver
    }

    #[test]
    fn refs_get_atts_and_pseudo_parameters_resolve() {
        let value = json!({
            "name": {"Ref": "Table"},
            "stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
            "region": {"Ref": "AWS::Region"},
            "stage": {"Ref": "Stage"},
            "list": [{"Ref": "UserPool"}, 3]
        });
        assert_eq!(
            resolver().resolve(&value, "X").unwrap(),
            json!({"name": "shop-local-Table", "stream": "arn:stream", "region": "us-east-1",
                   "stage": "local", "list": ["us-east-1_abc", 3]})
        );
    }

    #[test]
    fn sub_replaces_references_attributes_variables_and_keeps_literals() {
        let value = json!({"Fn::Sub": [
            "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}/${Table.StreamArn}/${x}/${!Literal}",
            {"x": {"Ref": "Stage"}}
        ]});
        assert_eq!(
            resolver().resolve_string(&value, "X").unwrap(),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/arn:stream/local/${Literal}"
        );
    }

    #[test]
    fn the_http_apis_invoke_url_resolves_to_where_devstack_serves_it() {
        let template =
            Template::from_yaml("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n")
                .unwrap();
        let mut resolver = resolver();
        resolver.set("Api", Attribute::Ref, "local");
        let invoke_url =
            json!({"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com"});
        assert_eq!(
            resolver.resolve_string(&invoke_url, "X").unwrap(),
            "https://local.execute-api.us-east-1.amazonaws.com",
            "as AWS builds it until devstack serves the API"
        );
        resolver.serve_api(&template, "http://127.0.0.1:3000");
        assert_eq!(
            resolver.resolve_string(&invoke_url, "X").unwrap(),
            "http://127.0.0.1:3000"
        );
        let joined = json!({"Fn::Join": ["", [
            "https://", {"Ref": "Api"}, ".execute-api.us-east-1.amazonaws.com/catalog/health"
        ]]});
        assert_eq!(
            resolver.resolve_string(&joined, "X").unwrap(),
            "http://127.0.0.1:3000/catalog/health"
        );
        let another_api =
            json!({"Fn::Sub": "https://other.execute-api.${AWS::Region}.amazonaws.com"});
        assert_eq!(
            resolver.resolve_string(&another_api, "X").unwrap(),
            "https://other.execute-api.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn join_concatenates_resolved_values() {
        let value = json!({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]});
        assert_eq!(resolver().resolve_string(&value, "X").unwrap(), "a-local");
    }

    #[test]
    fn an_unknown_reference_or_function_is_an_error_naming_where_it_is() {
        let error = resolver()
            .resolve(&json!({"Ref": "Nothing"}), "Fn.Properties.Environment")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("Fn.Properties.Environment") && error.contains("Nothing"),
            "{error}"
        );
        let error = resolver()
            .resolve(&json!({"Fn::If": ["c", 1, 2]}), "R.P")
            .unwrap_err()
            .to_string();
        assert!(error.contains("Fn::If"), "{error}");
    }

    #[test]
    fn an_attribute_devstack_does_not_record_is_an_error_naming_it() {
        let error = resolver()
            .resolve(&json!({"Fn::GetAtt": ["Table", "ConsumedCapacity"]}), "R.P")
            .unwrap_err()
            .to_string();
        assert!(error.contains("Table.ConsumedCapacity"), "{error}");
        let error = resolver()
            .resolve(&json!({"Fn::GetAtt": ["UserPool", "Arn"]}), "R.P")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("names nothing devstack provisions"),
            "{error}"
        );
    }
}
