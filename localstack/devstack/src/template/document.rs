//! One or more templates (the application's, plus overlays such as test fixtures) merged and
//! parsed into typed resources.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{
    ResourceKind, TemplateError,
    kind::Support,
    properties::{
        Properties,
        serverless::{FunctionMetadata, FunctionProperties},
    },
    yaml,
};

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: ResourceKind,
    pub properties: Properties,
    /// The folder of the template that declared it (relative paths are relative to it).
    pub base_dir: PathBuf,
}

impl Resource {
    /// Where a property of this resource is, for error messages.
    pub fn at(&self, property: &str) -> String {
        format!("{}.Properties.{property}", self.logical_id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Template {
    /// Each parameter with its default, if it has one.
    pub parameters: Vec<(String, Option<String>)>,
    pub resources: Vec<Resource>,
}

/// A resource as written, kept until every document is read: `Globals` of a later document
/// apply to the functions of an earlier one, as in one merged template.
struct RawResource {
    logical_id: String,
    kind: ResourceKind,
    properties: Value,
    metadata: Value,
    base_dir: PathBuf,
}

impl Template {
    pub fn load(paths: &[PathBuf]) -> Result<Self, TemplateError> {
        let mut documents = Vec::new();
        for path in paths {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
                path: shown.clone(),
                source,
            })?;
            let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            documents.push((shown, text, base_dir));
        }
        Self::parse(&documents)
    }

    /// One template from YAML text, with relative paths taken from the current folder.
    pub fn from_yaml(text: &str) -> Result<Self, TemplateError> {
        Self::parse(&[("template".to_owned(), text.to_owned(), PathBuf::new())])
    }

    /// Documents as (name shown in errors, YAML text, folder of relative paths).
    fn parse(documents: &[(String, String, PathBuf)]) -> Result<Self, TemplateError> {
        let mut template = Template::default();
        let mut globals = Map::new();
        let mut raw: Vec<RawResource> = Vec::new();
        for (shown, text, base_dir) in documents {
            let parsed: serde_yaml::Value =
                serde_yaml::from_str(text).map_err(|source| TemplateError::Parse {
                    path: shown.clone(),
                    source,
                })?;
            let json = yaml::to_json(&parsed, shown)?;
            if let Some(function_globals) = json["Globals"]["Function"].as_object() {
                merge_objects(&mut globals, function_globals);
            }
            for (name, parameter) in json["Parameters"].as_object().into_iter().flatten() {
                let default = match &parameter["Default"] {
                    Value::String(text) => Some(text.clone()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                };
                template.parameters.push((name.clone(), default));
            }
            for (logical_id, resource) in json["Resources"].as_object().into_iter().flatten() {
                let type_name = resource["Type"].as_str().unwrap_or_default();
                let kind = ResourceKind::from_type_name(type_name).ok_or_else(|| {
                    TemplateError::unsupported(
                        format!("{logical_id}.Type"),
                        format!("devstack cannot emulate {type_name:?}"),
                    )
                })?;
                // devstack does not evaluate conditions: a conditional resource it provisions
                // would exist locally whatever the condition says.
                if resource.get("Condition").is_some() && kind.support() == Support::Emulated {
                    return Err(TemplateError::unsupported(
                        format!("{logical_id}.Condition"),
                        "devstack does not evaluate conditions on the resources it emulates",
                    ));
                }
                if raw.iter().any(|r| &r.logical_id == logical_id) {
                    return Err(TemplateError::unsupported(
                        logical_id.clone(),
                        "declared twice",
                    ));
                }
                raw.push(RawResource {
                    logical_id: logical_id.clone(),
                    kind,
                    properties: resource["Properties"].clone(),
                    metadata: resource["Metadata"].clone(),
                    base_dir: base_dir.clone(),
                });
            }
        }
        for resource in raw {
            template.resources.push(typed(resource, &globals)?);
        }
        Ok(template)
    }

    pub fn of_kind(&self, kind: ResourceKind) -> impl Iterator<Item = &Resource> + '_ {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// The resources and function properties accepted without local effect, each with the
    /// reason, for the banner.
    pub fn not_emulated(&self) -> Vec<String> {
        let resources =
            self.resources
                .iter()
                .filter_map(|resource| match resource.kind.support() {
                    Support::AcceptedNotEmulated(why) => Some(format!(
                        "{} ({}): accepted, not emulated: {why}",
                        resource.logical_id, resource.kind
                    )),
                    Support::Emulated => None,
                });
        let deployment_preferences =
            self.resources
                .iter()
                .filter_map(|resource| match &resource.properties {
                    Properties::Function { properties, .. }
                        if properties.deployment_preference.is_some() =>
                    {
                        Some(format!(
                            "{}.DeploymentPreference: accepted, not emulated: no CodeDeploy, so an alias moved by UpdateAlias (or a redeploy) takes all traffic at once, without the canary step or the alarms' rollback",
                            resource.logical_id
                        ))
                    }
                    _ => None,
                });
        resources.chain(deployment_preferences).collect()
    }

    /// The resource an ARN- or name-valued property refers to (`!GetAtt X.Arn`, `!Ref X`),
    /// when it refers to one resource of this template.
    pub fn referenced(&self, value: &Value) -> Option<&Resource> {
        let id = match value {
            Value::Object(map) if map.contains_key("Ref") => map["Ref"].as_str()?,
            Value::Object(map) if map.contains_key("Fn::GetAtt") => {
                map["Fn::GetAtt"][0].as_str()?
            }
            _ => return None,
        };
        self.resource(id)
    }
}

fn typed(raw: RawResource, globals: &Map<String, Value>) -> Result<Resource, TemplateError> {
    let id = raw.logical_id.as_str();
    let props = if raw.properties.is_null() {
        Value::Object(Map::new())
    } else {
        raw.properties
    };
    let properties = match raw.kind {
        ResourceKind::DynamoDbTable => Properties::Table(from_value(props, id)?),
        ResourceKind::SqsQueue => Properties::Queue(from_value(props, id)?),
        ResourceKind::SqsQueuePolicy => Properties::QueuePolicy(from_value(props, id)?),
        ResourceKind::EventBus => Properties::EventBus(from_value(props, id)?),
        ResourceKind::EventRule => Properties::Rule(from_value(props, id)?),
        ResourceKind::EventArchive => Properties::Archive(from_value(props, id)?),
        ResourceKind::LogGroup => Properties::LogGroup(from_value(props, id)?),
        ResourceKind::UserPool => Properties::UserPool(from_value(props, id)?),
        ResourceKind::UserPoolClient => Properties::UserPoolClient(from_value(props, id)?),
        ResourceKind::UserPoolGroup => Properties::UserPoolGroup(from_value(props, id)?),
        ResourceKind::HttpApi => Properties::HttpApi(from_value(props, id)?),
        ResourceKind::StateMachine => Properties::StateMachine(from_value(props, id)?),
        ResourceKind::KmsKey => Properties::Key(from_value(props, id)?),
        ResourceKind::SnsTopic => Properties::Topic(from_value(props, id)?),
        ResourceKind::SsmParameter => Properties::Parameter(from_value(props, id)?),
        ResourceKind::Function => {
            let mut merged = globals.clone();
            if let Value::Object(own) = props {
                merge_objects(&mut merged, &own);
            }
            let metadata: FunctionMetadata =
                serde_path_to_error::deserialize(raw.metadata).map_err(|error| {
                    TemplateError::unsupported(
                        format!("{id}.Metadata.{}", error.path()),
                        format!(
                            "devstack runs rust-cargolambda functions and needs BuildProperties.Binary: {}",
                            error.inner()
                        ),
                    )
                })?;
            let function: FunctionProperties = from_value(Value::Object(merged), id)?;
            Properties::Function {
                binary: metadata.build_properties.binary,
                properties: Box::new(function),
            }
        }
        ResourceKind::LogResourcePolicy
        | ResourceKind::LogQueryDefinition
        | ResourceKind::Alarm
        | ResourceKind::CompositeAlarm
        | ResourceKind::Dashboard
        | ResourceKind::SnsSubscription => Properties::NotEmulated(props),
    };
    Ok(Resource {
        logical_id: raw.logical_id,
        kind: raw.kind,
        properties,
        base_dir: raw.base_dir,
    })
}

/// Typed properties, or an error naming the resource and the property path that is wrong.
fn from_value<T: DeserializeOwned>(props: Value, logical_id: &str) -> Result<T, TemplateError> {
    serde_path_to_error::deserialize(props).map_err(|error| {
        TemplateError::unsupported(
            format!("{logical_id}.Properties.{}", error.path()),
            format!("devstack does not emulate this: {}", error.inner()),
        )
    })
}

fn merge_objects(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => merge_objects(existing, more),
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Properties;

    fn error(yaml: &str) -> String {
        Template::from_yaml(yaml).unwrap_err().to_string()
    }

    #[test]
    fn an_unknown_resource_type_is_an_error_naming_the_resource() {
        let message = error("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n");
        assert!(message.contains("Bucket.Type"), "{message}");
        assert!(message.contains("AWS::S3::Bucket"), "{message}");
    }

    #[test]
    fn an_unknown_property_is_an_error_naming_resource_and_property() {
        let message = error(
            "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: true\n",
        );
        assert!(message.starts_with("Queue.Properties"), "{message}");
        assert!(message.contains("FifoQueue"), "{message}");
    }

    #[test]
    fn a_nested_unknown_property_names_its_path() {
        let message = error(
            r"
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
    Properties:
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: arn
            StartingPosition: LATEST
            FilterCriteria: {}
",
        );
        assert!(
            message.contains("Fn.Properties.Events.Changes") && message.contains("FilterCriteria"),
            "{message}"
        );
    }

    #[test]
    fn an_event_type_devstack_does_not_emulate_is_refused() {
        let message = error(
            r"
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
    Properties:
      Events:
        Queue:
          Type: SQS
          Properties: {Queue: arn}
",
        );
        assert!(message.contains("Fn.Properties.Events.Queue"), "{message}");
        assert!(message.contains("SQS"), "{message}");
    }

    #[test]
    fn a_function_without_its_binary_name_is_refused() {
        let message = error("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n");
        assert!(message.contains("Fn.Metadata"), "{message}");
        assert!(message.contains("BuildProperties.Binary"), "{message}");
    }

    #[test]
    fn function_globals_are_merged_under_each_functions_own_properties() {
        let template = Template::from_yaml(
            r"
Globals:
  Function:
    Timeout: 10
    Environment: {Variables: {RUST_LOG: info, SHARED: a}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
    Properties:
      Environment: {Variables: {SHARED: b}}
",
        )
        .unwrap();
        let Properties::Function { binary, properties } = &template.resources[0].properties else {
            panic!("a function");
        };
        assert_eq!(binary, "fn");
        assert_eq!(properties.timeout, Some(10));
        let variables = &properties.environment.as_ref().unwrap().variables;
        assert_eq!(variables["RUST_LOG"], "info");
        assert_eq!(variables["SHARED"], "b");
    }

    #[test]
    fn parameters_keep_their_defaults_and_kinds_are_typed() {
        let template = Template::from_yaml(
            r"
Parameters:
  Stage: {Type: String, Default: dev}
  Size: {Type: Number, Default: 12}
  Required: {Type: String}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {Anything: goes}
",
        )
        .unwrap();
        assert_eq!(
            template.parameters,
            [
                ("Required".to_owned(), None),
                ("Size".to_owned(), Some("12".to_owned())),
                ("Stage".to_owned(), Some("dev".to_owned())),
            ]
        );
        let table = template.resource("Table").unwrap();
        assert_eq!(table.kind, ResourceKind::DynamoDbTable);
        assert!(matches!(table.properties, Properties::Table(_)));
        assert_eq!(template.of_kind(ResourceKind::Alarm).count(), 1);
    }

    #[test]
    fn resources_accepted_without_emulation_are_listed_with_the_reason() {
        let template = Template::from_yaml(
            "Resources:\n  Query:\n    Type: AWS::Logs::QueryDefinition\n    Properties: {Name: x, QueryString: y}\n",
        )
        .unwrap();
        let notes = template.not_emulated();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("Query (AWS::Logs::QueryDefinition): accepted, not emulated"),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn a_condition_on_an_emulated_resource_is_refused_not_ignored() {
        let message =
            error("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Condition: IsProduction\n");
        assert!(message.contains("Queue.Condition"), "{message}");
        assert!(
            Template::from_yaml(
                "Resources:\n  Mail:\n    Type: AWS::SNS::Subscription\n    Condition: HasEmail\n    Properties: {}\n"
            )
            .is_ok(),
            "a resource without local effect may be conditional"
        );
    }

    #[test]
    fn a_resource_declared_in_two_templates_is_refused() {
        let document = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n".to_owned();
        let message = Template::parse(&[
            ("a".to_owned(), document.clone(), PathBuf::new()),
            ("b".to_owned(), document, PathBuf::new()),
        ])
        .unwrap_err()
        .to_string();
        assert!(message.contains("declared twice"), "{message}");
    }

    #[test]
    fn the_shops_template_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
        let template = Template::load(&[path]).unwrap();
        assert!(template.of_kind(ResourceKind::Function).count() > 20);
    }
}
