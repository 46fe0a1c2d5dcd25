//! DynamoDB tables, with their streams.

use aws_sdk_dynamodb::{
    Client,
    error::SdkError,
    operation::create_table::CreateTableError,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    },
};

use super::{
    ProvisionError,
    names::{arn, physical_name},
};
use crate::template::{
    Attribute, Properties, Resolver, Template,
    properties::dynamodb::{KeyElement, TableProperties},
};

pub async fn provision(
    template: &Template,
    resolver: &mut Resolver,
    client: &Client,
) -> Result<(), ProvisionError> {
    for resource in &template.resources {
        let Properties::Table(table) = &resource.properties else {
            continue;
        };
        let name = physical_name(
            resolver,
            &resource.logical_id,
            table.table_name.as_ref(),
            &resource.at("TableName"),
        )?;
        let stream_arn = create_table(client, table, &name)
            .await
            .map_err(ProvisionError::aws(&resource.logical_id, "CreateTable"))?;
        let id = &resource.logical_id;
        resolver.set(
            id,
            Attribute::Arn,
            arn(resolver, "dynamodb", &format!("table/{name}")),
        );
        if let Some(stream_arn) = stream_arn {
            resolver.set(id, Attribute::StreamArn, stream_arn);
        }
        resolver.set(id, Attribute::Ref, name);
    }
    Ok(())
}

/// Creates a table from its template properties, under `name`; returns the stream ARN when
/// the table has a stream. Only what shapes behaviour is read: keys, indexes and the stream
/// (billing, encryption and backups have no local effect).
pub async fn create_table(
    client: &Client,
    table: &TableProperties,
    name: &str,
) -> Result<Option<String>, SdkError<CreateTableError>> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&table.key_schema)))
        .set_attribute_definitions(Some(
            table
                .attribute_definitions
                .iter()
                .filter_map(|a| {
                    AttributeDefinition::builder()
                        .attribute_name(&a.attribute_name)
                        .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                        .build()
                        .ok()
                })
                .collect(),
        ));
    for index in &table.global_secondary_indexes {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(
                index.projection.projection_type.as_deref().unwrap_or("ALL"),
            ))
            .set_non_key_attributes(
                (!index.projection.non_key_attributes.is_empty())
                    .then(|| index.projection.non_key_attributes.clone()),
            )
            .build();
        if let Ok(index) = GlobalSecondaryIndex::builder()
            .index_name(&index.index_name)
            .set_key_schema(Some(key_schema(&index.key_schema)))
            .projection(projection)
            .build()
        {
            request = request.global_secondary_indexes(index);
        }
    }
    if let Some(stream) = &table.stream_specification {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(stream.stream_view_type.as_str()))
                .build()
                .map_err(SdkError::construction_failure)?,
        );
    }
    let output = request.send().await?;
    Ok(output
        .table_description()
        .and_then(|table| table.latest_stream_arn())
        .map(str::to_owned))
}

fn key_schema(keys: &[KeyElement]) -> Vec<KeySchemaElement> {
    keys.iter()
        .filter_map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .ok()
        })
        .collect()
}
