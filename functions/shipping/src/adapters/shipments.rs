//! The shipments table: one item per order. Writing it is how shipping announces what it did
//! (its stream feeds the publisher), so every write is conditional and happens once.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, SdkError},
    types::AttributeValue,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum ShipmentsError {
    #[error("DynamoDB failed: {0}")]
    Dynamo(String),
    #[error("a stored shipment cannot be read: {0}")]
    Corrupt(#[from] serde_dynamo::Error),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<SdkError<E, R>> for ShipmentsError {
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(DisplayErrorContext(error).to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    Scheduled,
    Cancelled,
}

/// An order's shipment. `version` is 1 when scheduled and 2 once cancelled: the sequence of
/// its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub order_id: String,
    pub customer_id: String,
    pub shipment_id: String,
    pub status: ShipmentStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The event that caused this version.
    pub causation_id: String,
}

#[derive(Debug, Clone)]
pub struct Shipments {
    client: Client,
    table: String,
}

impl Shipments {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), ShipmentsError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await?;
        Ok(())
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Shipment>, ShipmentsError> {
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

    /// Schedules the order's shipment once; `false` when the order already has one (scheduled
    /// before, or cancelled before it was confirmed).
    pub async fn schedule(
        &self,
        order_id: &str,
        customer_id: &str,
        causation_id: &str,
    ) -> Result<bool, ShipmentsError> {
        let shipment = Shipment {
            order_id: order_id.to_owned(),
            customer_id: customer_id.to_owned(),
            shipment_id: format!("shp_{}", uuid::Uuid::new_v4().simple()),
            status: ShipmentStatus::Scheduled,
            version: 1,
            updated_at: OffsetDateTime::now_utc(),
            causation_id: causation_id.to_owned(),
        };
        self.put(&shipment, "attribute_not_exists(order_id)").await
    }

    /// Cancels the order's shipment once. An order cancelled before any shipment gets a
    /// cancelled one, so a late OrderConfirmed cannot schedule it.
    pub async fn cancel(
        &self,
        order_id: &str,
        customer_id: &str,
        causation_id: &str,
    ) -> Result<bool, ShipmentsError> {
        let cancelled = |current: Option<Shipment>| Shipment {
            status: ShipmentStatus::Cancelled,
            version: current.as_ref().map_or(1, |s| s.version + 1),
            updated_at: OffsetDateTime::now_utc(),
            causation_id: causation_id.to_owned(),
            ..current.unwrap_or_else(|| Shipment {
                order_id: order_id.to_owned(),
                customer_id: customer_id.to_owned(),
                shipment_id: format!("shp_{}", uuid::Uuid::new_v4().simple()),
                status: ShipmentStatus::Cancelled,
                version: 0,
                updated_at: OffsetDateTime::now_utc(),
                causation_id: causation_id.to_owned(),
            })
        };
        match self.get(order_id).await? {
            None => {
                self.put(&cancelled(None), "attribute_not_exists(order_id)")
                    .await
            }
            Some(current) if current.status == ShipmentStatus::Scheduled => {
                self.put(&cancelled(Some(current)), "#status = :scheduled")
                    .await
            }
            Some(_) => Ok(false),
        }
    }

    async fn put(&self, shipment: &Shipment, condition: &str) -> Result<bool, ShipmentsError> {
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(shipment)?;
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        if condition.contains("#status") {
            request = request
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(
                    ":scheduled",
                    AttributeValue::S("SCHEDULED".to_owned()),
                );
        }
        Ok(shop_aws::condition_held(request.send().await)?)
    }
}
