//! The payments table: one item per order.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, ReturnValue},
};
use shop_aws::dynamo::{self, DynamoError, StoreError};

use crate::domain::{Payment, PaymentStatus};

#[derive(Debug, Clone)]
pub struct PaymentsTable {
    client: Client,
    table: String,
}

fn status_value(status: PaymentStatus) -> Result<AttributeValue, StoreError> {
    Ok(serde_dynamo::to_attribute_value(status)?)
}

impl PaymentsTable {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.table).await
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Payment>, StoreError> {
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

    /// Counts one more authorization attempt, creating a pending payment on the first.
    pub async fn record_attempt(
        &self,
        order_id: &str,
        amount_cents: i64,
        currency: &str,
    ) -> Result<Payment, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", AttributeValue::S(order_id.to_owned()))
            .update_expression(
                "ADD attempts :one SET #status = if_not_exists(#status, :pending), \
                 amount_cents = if_not_exists(amount_cents, :amount), currency = if_not_exists(currency, :currency), \
                 refunded_cents = if_not_exists(refunded_cents, :zero)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":pending", status_value(PaymentStatus::Pending)?)
            .expression_attribute_values(":amount", AttributeValue::N(amount_cents.to_string()))
            .expression_attribute_values(":currency", AttributeValue::S(currency.to_owned()))
            .expression_attribute_values(":zero", AttributeValue::N("0".to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        Ok(serde_dynamo::from_item(
            output.attributes.unwrap_or_default(),
        )?)
    }

    /// Stores `payment` if the stored one is still in `expected` (or absent, for `None`);
    /// `false` when another request changed it first.
    pub async fn replace(
        &self,
        payment: &Payment,
        expected: Option<PaymentStatus>,
    ) -> Result<bool, StoreError> {
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(payment)?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = match expected {
            Some(status) => request
                .condition_expression("#status = :expected")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":expected", status_value(status)?),
            None => request.condition_expression("attribute_not_exists(order_id)"),
        };
        Ok(shop_aws::condition_held(request.send().await)?)
    }
}
