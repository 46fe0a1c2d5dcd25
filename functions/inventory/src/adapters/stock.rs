//! The stock table (one item per SKU) and the reservations table (one item per order).

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, SdkError},
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Put, TransactWriteItem, Update},
};

use crate::domain::{Level, Line};

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// These SKUs have fewer units available than the order asks for (or are unknown).
    #[error("not enough stock of {}", .0.join(", "))]
    OutOfStock(Vec<String>),
    #[error("the order's reservation was released; it cannot reserve again")]
    AlreadyReleased,
    #[error("{reserved} units are reserved, more than the {on_hand} asked for")]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("DynamoDB failed: {0}")]
    Dynamo(String),
    #[error("a stored item cannot be read: {0}")]
    Corrupt(String),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<SdkError<E, R>> for StockError {
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(DisplayErrorContext(error).to_string())
    }
}

/// How a reservation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    Now,
    /// The order had reserved already (a retried task).
    Already,
}

/// How a release ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// These lines went back to stock.
    Now(Vec<Line>),
    /// Nothing to give back: released before, or never reserved.
    Nothing,
}

type Item = HashMap<String, AttributeValue>;

const RESERVED: &str = "RESERVED";
const RELEASED: &str = "RELEASED";

#[derive(Debug, Clone)]
pub struct Stock {
    client: Client,
    levels_table: String,
    reservations_table: String,
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl Stock {
    pub fn new(client: Client, levels_table: String, reservations_table: String) -> Self {
        Self {
            client,
            levels_table,
            reservations_table,
        }
    }

    pub async fn connect(&self) -> Result<(), StockError> {
        for table in [&self.levels_table, &self.reservations_table] {
            self.client
                .describe_table()
                .table_name(table)
                .send()
                .await?;
        }
        Ok(())
    }

    pub async fn level(&self, sku: &str) -> Result<Option<Level>, StockError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.levels_table)
            .key("sku", s(sku))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.map(|item| Level {
            on_hand: number(&item, "on_hand"),
            reserved: number(&item, "reserved"),
        }))
    }

    /// Sets how many units are on hand; refused below what is reserved.
    pub async fn set_on_hand(&self, sku: &str, on_hand: i64) -> Result<Level, StockError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.levels_table)
            .key("sku", s(sku))
            .update_expression(
                "SET on_hand = :on_hand, reserved = if_not_exists(reserved, :zero), \
                 available = :on_hand - if_not_exists(reserved, :zero)",
            )
            .condition_expression("attribute_not_exists(sku) OR reserved <= :on_hand")
            .expression_attribute_values(":on_hand", n(on_hand))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        if shop_aws::condition_held(result)? {
            return self
                .level(sku)
                .await?
                .ok_or_else(|| StockError::Corrupt(format!("{sku} vanished")));
        }
        let reserved = self.level(sku).await?.map_or(0, |level| level.reserved);
        Err(StockError::BelowReserved { on_hand, reserved })
    }

    /// Reserves every line for the order, or none.
    pub async fn reserve(&self, order_id: &str, lines: &[Line]) -> Result<Reserved, StockError> {
        let lines_json =
            serde_json::to_string(lines).map_err(|e| StockError::Corrupt(e.to_string()))?;
        let reservation: Item = HashMap::from([
            ("order_id".to_owned(), s(order_id)),
            ("status".to_owned(), s(RESERVED)),
            ("lines".to_owned(), s(&lines_json)),
        ]);
        let mut request = self.client.transact_write_items().transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.reservations_table)
                        .set_item(Some(reservation))
                        .condition_expression("attribute_not_exists(order_id)")
                        .build()
                        .expect("table and item are set"),
                )
                .build(),
        );
        for line in lines {
            request = request.transact_items(self.move_units(
                &line.sku,
                line.quantity,
                "available >= :quantity",
            ));
        }
        let Err(error) = request.send().await else {
            return Ok(Reserved::Now);
        };
        let failed = failed_conditions(&error);
        if failed.first() == Some(&true) {
            return match self.reservation(order_id).await? {
                Some((status, _)) if status == RESERVED => Ok(Reserved::Already),
                _ => Err(StockError::AlreadyReleased),
            };
        }
        let short: Vec<String> = lines
            .iter()
            .zip(failed.iter().skip(1))
            .filter(|(_, failed)| **failed)
            .map(|(line, _)| line.sku.clone())
            .collect();
        if short.is_empty() {
            Err(error.into())
        } else {
            Err(StockError::OutOfStock(short))
        }
    }

    /// Gives back what the order reserved, once. Releasing an order that reserved nothing
    /// records that, so a late reservation for it cannot take stock afterwards.
    pub async fn release(&self, order_id: &str) -> Result<Released, StockError> {
        let Some((status, lines)) = self.reservation(order_id).await? else {
            let tombstone: Item = HashMap::from([
                ("order_id".to_owned(), s(order_id)),
                ("status".to_owned(), s(RELEASED)),
                ("lines".to_owned(), s("[]")),
            ]);
            let result = self
                .client
                .put_item()
                .table_name(&self.reservations_table)
                .set_item(Some(tombstone))
                .condition_expression("attribute_not_exists(order_id)")
                .send()
                .await;
            if shop_aws::condition_held(result)? {
                return Ok(Released::Nothing);
            }
            // A reservation arrived meanwhile: release that.
            return Box::pin(self.release(order_id)).await;
        };
        if status == RELEASED {
            return Ok(Released::Nothing);
        }
        let mut request = self.client.transact_write_items().transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.reservations_table)
                        .key("order_id", s(order_id))
                        .update_expression("SET #status = :released")
                        .condition_expression("#status = :reserved")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":released", s(RELEASED))
                        .expression_attribute_values(":reserved", s(RESERVED))
                        .build()
                        .expect("table, key and expression are set"),
                )
                .build(),
        );
        for line in &lines {
            request = request.transact_items(self.move_units(
                &line.sku,
                -line.quantity,
                "attribute_exists(sku)",
            ));
        }
        match request.send().await {
            Ok(_) => Ok(Released::Now(lines)),
            // Another release won the race.
            Err(error) if failed_conditions(&error).first() == Some(&true) => Ok(Released::Nothing),
            Err(error) => Err(error.into()),
        }
    }

    /// Moves `quantity` units of a SKU from available to reserved (negative: back).
    fn move_units(&self, sku: &str, quantity: i64, condition: &str) -> TransactWriteItem {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&self.levels_table)
                    .key("sku", s(sku))
                    .update_expression(
                        "SET available = available - :quantity, reserved = reserved + :quantity",
                    )
                    .condition_expression(condition)
                    .expression_attribute_values(":quantity", n(quantity))
                    .build()
                    .expect("table, key and expression are set"),
            )
            .build()
    }

    async fn reservation(&self, order_id: &str) -> Result<Option<(String, Vec<Line>)>, StockError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.reservations_table)
            .key("order_id", s(order_id))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let lines =
            serde_json::from_str(&text("lines")).map_err(|e| StockError::Corrupt(e.to_string()))?;
        Ok(Some((text("status"), lines)))
    }
}

fn number(item: &Item, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// For each item of a cancelled transaction, whether its condition failed.
fn failed_conditions(error: &SdkError<TransactWriteItemsError>) -> Vec<bool> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .map(|reason| reason.code() == Some("ConditionalCheckFailed"))
            .collect(),
        _ => Vec::new(),
    }
}
