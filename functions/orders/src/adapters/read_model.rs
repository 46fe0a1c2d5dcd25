//! The read side: order views (one item per order, plus a GSI listing a customer's orders
//! newest first) and per-customer totals. Everything here is derived from the event store and
//! can be dropped and rebuilt.
//!
//! An order is counted in its customer's totals in the same transaction that writes its first
//! view: the view's existence is the record that the order is counted. So no retry, redelivery
//! or crash between two writes can count an order twice or never, and the totals item holds
//! two numbers however many orders it counts (DynamoDB items stop at 400 KB).

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, DeleteRequest, Put, TransactWriteItem, Update, WriteRequest},
};
use serde::{Deserialize, Serialize};
use shop_aws::dynamo::{self, DynamoError, TransactionError};
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::{Address, Order, OrderLine, OrderStatus};

pub const BY_CUSTOMER_INDEX: &str = "by-customer";

/// An order as queries see it. `version` is the sequence of the last event applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    pub total_cents: i64,
    pub currency: String,
    pub shipping_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// Every participant has undone its part of the cancellation.
    #[serde(default)]
    pub cancellation_complete: bool,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Sort key of the by-customer index: placement time, then id for ties.
    pub placed_key: String,
}

impl OrderView {
    /// The view of an order's state (its card token stays in the event store).
    pub fn of(order: &Order) -> Self {
        let placed = order
            .placed_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Self {
            order_id: order.id.clone(),
            customer_id: order.customer_id.clone(),
            status: order.status,
            items: order.lines.clone(),
            total_cents: order.total_cents,
            currency: order.currency.clone(),
            shipping_address: order.shipping_address.clone(),
            reason: order.reason.clone(),
            shipment_id: order.shipment_id.clone(),
            cancellation_complete: order.cancellation_complete,
            version: order.version,
            placed_at: order.placed_at,
            updated_at: order.updated_at,
            placed_key: format!("{placed}#{}", order.id),
        }
    }
}

/// What happened to a view write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Written,
    /// The stored view was already at this version or later.
    AlreadyCurrent,
}

/// Why a view could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReadModelError {
    /// Another transaction wrote the same view or totals at that moment; nothing was written,
    /// and writing again may succeed.
    #[error("another write to the same view or totals ran at the same time")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DynamoError> for ReadModelError {
    fn from(error: DynamoError) -> Self {
        Self::Store(error.into())
    }
}

/// A customer's totals in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub order_count: u64,
    pub total_cents: i64,
}

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct ReadModel {
    client: Client,
    views_table: String,
    totals_table: String,
}

impl ReadModel {
    pub fn new(client: Client, views_table: String, totals_table: String) -> Self {
        Self {
            client,
            views_table,
            totals_table,
        }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.views_table).await?;
        dynamo::connect(&self.client, &self.totals_table).await
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<OrderView>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.views_table)
            .key("order_id", AttributeValue::S(order_id.to_owned()))
            .send()
            .await?;
        Ok(output.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Stores a view unless the stored one is already at its version or later, so replays,
    /// duplicates and late deliveries never move a view backwards.
    pub async fn put(&self, view: &OrderView) -> Result<Applied, StoreError> {
        let item: Item = serde_dynamo::to_item(view)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.views_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(order_id) OR version < :version")
            .expression_attribute_values(":version", AttributeValue::N(view.version.to_string()))
            .send()
            .await;
        if shop_aws::condition_held(result)? {
            Ok(Applied::Written)
        } else {
            Ok(Applied::AlreadyCurrent)
        }
    }

    /// A customer's orders, newest first, and where the next page starts.
    pub async fn list(
        &self,
        customer_id: &str,
        limit: u32,
        after: Option<HashMap<String, String>>,
    ) -> Result<(Vec<OrderView>, Option<HashMap<String, String>>), StoreError> {
        let start = after.map(|key| {
            key.into_iter()
                .map(|(k, v)| (k, AttributeValue::S(v)))
                .collect()
        });
        let output = self
            .client
            .query()
            .table_name(&self.views_table)
            .index_name(BY_CUSTOMER_INDEX)
            .key_condition_expression("customer_id = :customer")
            .expression_attribute_values(":customer", AttributeValue::S(customer_id.to_owned()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(100))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let views = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(serde_dynamo::from_item)
            .collect::<Result<Vec<OrderView>, _>>()?;
        let next = output.last_evaluated_key.map(|key| {
            key.into_iter()
                .filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone())))
                .collect()
        });
        Ok((views, next))
    }

    /// Stores an order's first view and counts the order in its customer's totals, in one
    /// transaction. When the view exists after all (a stale read, a concurrent rebuild), the
    /// order is counted already, and the view is stored as [`put`](Self::put) would.
    pub async fn put_first(&self, view: &OrderView) -> Result<Applied, ReadModelError> {
        let item: Item = serde_dynamo::to_item(view).map_err(StoreError::from)?;
        let first_view = Put::builder()
            .table_name(&self.views_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(order_id)")
            .build()
            .expect("table, item and condition are set");
        let count = Update::builder()
            .table_name(&self.totals_table)
            .key("customer_id", AttributeValue::S(view.customer_id.clone()))
            .key("currency", AttributeValue::S(view.currency.clone()))
            .update_expression("ADD order_count :one, total_cents :total")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":total", AttributeValue::N(view.total_cents.to_string()))
            .build()
            .expect("table, key and update are set");
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(first_view).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await;
        match dynamo::classify_transaction(result) {
            Ok(_) => Ok(Applied::Written),
            Err(TransactionError::ConditionsFailed(_)) => Ok(self.put(view).await?),
            Err(TransactionError::Conflict) => Err(ReadModelError::Conflict),
            Err(TransactionError::Dynamo(error)) => Err(error.into()),
        }
    }

    pub async fn totals(
        &self,
        customer_id: &str,
        currency: &str,
    ) -> Result<Option<Totals>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.totals_table)
            .key("customer_id", AttributeValue::S(customer_id.to_owned()))
            .key("currency", AttributeValue::S(currency.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.map(|item| {
            let number = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(0)
            };
            Totals {
                order_count: u64::try_from(number("order_count")).unwrap_or(0),
                total_cents: number("total_cents"),
            }
        }))
    }

    /// Every stored view (for verifying a rebuild).
    pub async fn all_views(&self) -> Result<Vec<OrderView>, StoreError> {
        let mut views = Vec::new();
        for item in self.scan(&self.views_table).await? {
            views.push(serde_dynamo::from_item(item)?);
        }
        Ok(views)
    }

    /// Deletes every view and total; returns how many items went.
    pub async fn clear(&self) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for (table, keys) in [
            (&self.views_table, &["order_id"][..]),
            (&self.totals_table, &["customer_id", "currency"][..]),
        ] {
            let items = self.scan(table).await?;
            for chunk in items.chunks(25) {
                let requests = chunk
                    .iter()
                    .map(|item| {
                        let key: Item = keys
                            .iter()
                            .filter_map(|k| Some(((*k).to_owned(), item.get(*k)?.clone())))
                            .collect();
                        WriteRequest::builder()
                            .delete_request(
                                DeleteRequest::builder()
                                    .set_key(Some(key))
                                    .build()
                                    .expect("key is set"),
                            )
                            .build()
                    })
                    .collect();
                self.client
                    .batch_write_item()
                    .request_items(table.clone(), requests)
                    .send()
                    .await?;
                deleted += chunk.len();
            }
        }
        Ok(deleted)
    }

    async fn scan(&self, table: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }
}
