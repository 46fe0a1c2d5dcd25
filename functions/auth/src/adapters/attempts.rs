//! Failed-login counters in auth's own table: one item per key (an account or a source) and
//! window, counted with an atomic ADD and removed by DynamoDB's TTL once the window is over.
//! Kept in the table, not in memory, because every Lambda instance must see the same counts.

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use shop_aws::dynamo::{self, DynamoError};

use super::StoreError;

#[derive(Debug, Clone)]
pub struct LoginAttempts {
    client: Client,
    table: String,
}

impl LoginAttempts {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.table).await
    }

    /// Failures counted under `key` (0 when none).
    pub async fn failures(&self, key: &str) -> Result<u32, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output
            .item
            .and_then(|item| item.get("failures")?.as_n().ok()?.parse().ok())
            .unwrap_or(0))
    }

    /// Counts one more failure under `key`, kept until `expires_at` (epoch seconds).
    pub async fn record_failure(&self, key: &str, expires_at: u64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .update_expression("ADD failures :one SET expires_at = :expires")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()))
            .send()
            .await?;
        Ok(())
    }

    /// Forgets the failures under `key` (after a successful login).
    pub async fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .send()
            .await?;
        Ok(())
    }
}
