//! The shipments table: one item per order. Writing it is how shipping announces what it did
//! (its stream feeds the publisher), so every write is conditional and happens once.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client, operation::put_item::builders::PutItemFluentBuilder, types::AttributeValue,
};
use shop_aws::dynamo::{self, DynamoError};

use super::StoreError;
use crate::domain::{Shipment, ShipmentStatus};

#[derive(Debug, Clone)]
pub struct Shipments {
    client: Client,
    table: String,
}

impl Shipments {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.table).await
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Shipment>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("order_id", AttributeValue::S(order_id.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Stores the order's first shipment; `false` when the order has one already.
    pub async fn put_new(&self, shipment: &Shipment) -> Result<bool, StoreError> {
        self.put(shipment, |put| {
            put.condition_expression("attribute_not_exists(order_id)")
        })
        .await
    }

    /// Replaces a scheduled shipment; `false` when it is no longer scheduled.
    pub async fn replace_scheduled(&self, shipment: &Shipment) -> Result<bool, StoreError> {
        let scheduled = serde_dynamo::to_attribute_value(ShipmentStatus::Scheduled)?;
        self.put(shipment, |put| {
            put.condition_expression("#status = :scheduled")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":scheduled", scheduled)
        })
        .await
    }

    /// A put on the condition `condition` adds; `false` when the condition did not hold.
    async fn put(
        &self,
        shipment: &Shipment,
        condition: impl FnOnce(PutItemFluentBuilder) -> PutItemFluentBuilder,
    ) -> Result<bool, StoreError> {
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(shipment)?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        Ok(shop_aws::condition_held(condition(request).send().await)?)
    }
}
