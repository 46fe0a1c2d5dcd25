//! YAML with CloudFormation's short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) turned into
//! the long form (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, ...) as JSON.

use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

use super::TemplateError;

pub fn to_json(yaml: &Yaml, at: &str) -> Result<Json, TemplateError> {
    Ok(match yaml {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap_or(Json::Null),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(items) => Json::Array(
            items
                .iter()
                .map(|item| to_json(item, at))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let key = key.as_str().ok_or_else(|| {
                    TemplateError::unsupported(at, "a mapping key is not a string")
                })?;
                out.insert(key.to_owned(), to_json(value, &format!("{at}.{key}"))?);
            }
            Json::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(&tagged.value, at)?;
            let (key, value) = match name {
                "Ref" | "Condition" => (name.to_owned(), inner),
                "GetAtt" => {
                    let parts = match inner {
                        Json::String(dotted) => dotted
                            .split_once('.')
                            .map(|(resource, attr)| vec![resource.into(), attr.into()])
                            .ok_or_else(|| {
                                TemplateError::unsupported(
                                    at,
                                    format!("!GetAtt {dotted} has no attribute"),
                                )
                            })?,
                        Json::Array(parts) => parts,
                        other => {
                            return Err(TemplateError::unsupported(at, format!("!GetAtt {other}")));
                        }
                    };
                    ("Fn::GetAtt".to_owned(), Json::Array(parts))
                }
                other => (format!("Fn::{other}"), inner),
            };
            Json::Object(Map::from_iter([(key, value)]))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> Json {
        to_json(&serde_yaml::from_str(text).unwrap(), "test").unwrap()
    }

    #[test]
    fn short_form_tags_become_long_form_intrinsics() {
        let json = parse(
            "a: !Ref Table\nb: !GetAtt Table.StreamArn\nc: !Sub 'x-${Stage}'\nd: !Join ['-', [a, b]]\n",
        );
        assert_eq!(json["a"], json!({"Ref": "Table"}));
        assert_eq!(json["b"], json!({"Fn::GetAtt": ["Table", "StreamArn"]}));
        assert_eq!(json["c"], json!({"Fn::Sub": "x-${Stage}"}));
        assert_eq!(json["d"], json!({"Fn::Join": ["-", ["a", "b"]]}));
    }
}
