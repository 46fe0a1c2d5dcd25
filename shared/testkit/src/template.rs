//! Resources created on the emulator from `infra/template.yaml`.
//!
//! Only the properties that shape behaviour are read (keys, indexes, streams); names come
//! from the test, so each test gets its own copy of a table.

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    },
};
use serde_yaml::Value;

/// The template's `Resources` section. CloudFormation short-form tags (`!Ref`, `!Sub`, ...)
/// parse as tagged values and are left alone.
pub fn resources() -> serde_yaml::Mapping {
    let path = crate::workspace_root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("read infra/template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("infra/template.yaml is YAML");
    template["Resources"]
        .as_mapping()
        .expect("the template has Resources")
        .clone()
}

/// The `Properties` of one resource, checked to be of the expected type.
pub fn properties(logical_id: &str, resource_type: &str) -> Value {
    let resources = resources();
    let resource = resources
        .get(logical_id)
        .unwrap_or_else(|| panic!("no resource {logical_id} in infra/template.yaml"));
    assert_eq!(
        resource["Type"].as_str(),
        Some(resource_type),
        "{logical_id} is not a {resource_type}"
    );
    resource["Properties"].clone()
}

/// Creates the table the template declares as `logical_id`, named `table_name`, and returns
/// its stream ARN when it has a stream.
pub async fn create_table(client: &Client, logical_id: &str, table_name: &str) -> Option<String> {
    let props = properties(logical_id, "AWS::DynamoDB::Table");
    let mut request = client
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            seq(&props["AttributeDefinitions"])
                .map(|a| {
                    AttributeDefinition::builder()
                        .attribute_name(text(&a["AttributeName"]))
                        .attribute_type(ScalarAttributeType::from(text(&a["AttributeType"])))
                        .build()
                        .expect("attribute definition")
                })
                .collect(),
        ))
        .set_key_schema(Some(key_schema(&props["KeySchema"])));

    for index in seq(&props["GlobalSecondaryIndexes"]) {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(
                index["Projection"]["ProjectionType"]
                    .as_str()
                    .unwrap_or("ALL"),
            ))
            .set_non_key_attributes(
                index["Projection"]["NonKeyAttributes"]
                    .as_sequence()
                    .map(|attrs| attrs.iter().map(|a| text(a).to_owned()).collect()),
            )
            .build();
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(&index["IndexName"]))
                .set_key_schema(Some(key_schema(&index["KeySchema"])))
                .projection(projection)
                .build()
                .expect("index"),
        );
    }

    if let Some(view) = props["StreamSpecification"]["StreamViewType"].as_str() {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()
                .expect("stream specification"),
        );
    }

    let output = request.send().await.expect("create table");
    output
        .table_description()
        .and_then(|table| table.latest_stream_arn())
        .map(str::to_owned)
}

fn seq(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_sequence().into_iter().flatten()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a plain string in the template, found {value:?}"))
}

fn key_schema(value: &Value) -> Vec<KeySchemaElement> {
    seq(value)
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(&k["AttributeName"]))
                .key_type(KeyType::from(text(&k["KeyType"])))
                .build()
                .expect("key schema element")
        })
        .collect()
}
