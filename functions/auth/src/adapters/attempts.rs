//! Login counters in auth's own table: one item per counter key and window (see
//! `domain::lockout`), changed only by atomic conditional updates and removed by DynamoDB's TTL
//! once the window is over. Kept in the table, not in memory, because every Lambda instance
//! must see the same counts.
//!
//! Each counter is its own `UpdateItem`, not one `TransactWriteItems` over the three: DynamoDB
//! cancels concurrent transactions on one item with `TransactionConflict`, which would refuse
//! legitimate attempts whenever two logins of one account or one address overlap. A single
//! item's conditional update is serialised by DynamoDB and never conflicts.

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

    /// Takes one count under `key` if fewer than `limit` are taken; `false` when the counter is
    /// full. The item is kept until `expires_at` (epoch seconds).
    pub async fn reserve(
        &self,
        key: &str,
        limit: u32,
        expires_at: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .update_expression("ADD failures :one SET expires_at = :expires")
            .condition_expression("attribute_not_exists(failures) OR failures < :limit")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()))
            .send()
            .await;
        Ok(shop_aws::condition_held(result)?)
    }

    /// Gives back one count taken under `key` by an attempt that turned out not to be a failed
    /// guess. A counter that is gone (cleared, or expired) is left gone: an `ADD` would create
    /// it again at -1, without an expiry, and it would hand out one extra count forever.
    pub async fn release(&self, key: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .update_expression("ADD failures :minus_one")
            .condition_expression("attribute_exists(failures)")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".to_owned()))
            .send()
            .await;
        shop_aws::condition_held(result)?;
        Ok(())
    }

    /// Forgets every count under `key`.
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
