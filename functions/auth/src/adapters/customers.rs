//! Confirmed customers, one item each. Writing one is how auth announces a registration: the
//! table's stream feeds the publisher, which puts CustomerRegistered on the bus.

use std::collections::HashMap;

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use serde::{Deserialize, Serialize};
use shop_aws::dynamo::{self, DynamoError};
use time::OffsetDateTime;

use super::StoreError;

/// A registered customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub registered_at: OffsetDateTime,
}

/// A customer as stored, with the correlation id of the request that registered them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub user_id: String,
    pub email: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    pub correlation_id: String,
}

#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
    table: String,
}

impl Customers {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.table).await
    }

    /// Records a registration once; `false` when the customer was already recorded (a repeated
    /// confirmation), so it is announced once.
    pub async fn register(
        &self,
        customer: &Customer,
        correlation_id: &str,
    ) -> Result<bool, StoreError> {
        let record = CustomerRecord {
            user_id: customer.user_id.clone(),
            email: customer.email.clone(),
            name: customer.name.clone(),
            registered_at: customer.registered_at,
            correlation_id: correlation_id.to_owned(),
        };
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(record)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(user_id)")
            .send()
            .await;
        Ok(shop_aws::condition_held(result)?)
    }
}
