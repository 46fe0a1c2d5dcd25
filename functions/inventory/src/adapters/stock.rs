//! The stock table (one item per SKU) and the reservations table (one item per order).
//!
//! A reservation and the units it takes are one transaction: the reservation is put on the
//! condition that the order has none, and each SKU's units move from available to reserved on
//! the condition that enough are available. Releasing is the reverse, on the condition that
//! the reservation is still RESERVED. Either the whole transaction happens or none of it.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, Put, TransactWriteItem, Update},
};
use serde::{Deserialize, Serialize};
use shop_aws::dynamo::{self, DynamoError, TransactionError};

use super::StoreError;
use crate::domain::{Level, Line, Reservation, ReservationStatus};

/// A reservation as stored, and as the reservations table's stream carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationRecord {
    pub order_id: String,
    pub status: ReservationStatus,
    /// The lines as JSON text: one attribute keeps the item independent of the lines' shape.
    pub lines: String,
}

impl ReservationRecord {
    pub fn new(reservation: &Reservation) -> Result<Self, StoreError> {
        Ok(Self {
            order_id: reservation.order_id.clone(),
            status: reservation.status,
            lines: serde_json::to_string(&reservation.lines)?,
        })
    }

    pub fn into_reservation(self) -> Result<Reservation, StoreError> {
        Ok(Reservation {
            lines: serde_json::from_str(&self.lines)?,
            order_id: self.order_id,
            status: self.status,
        })
    }
}

/// What an attempt to take stock for an order came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    Now,
    /// The order has a reservation already (taken before, or released).
    OrderHasReservation,
    /// These SKUs have fewer units available than asked (or are unknown).
    Short(Vec<String>),
    /// Another transaction wrote the same items meanwhile; nothing was taken.
    Contended,
}

type Item = HashMap<String, AttributeValue>;

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

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.levels_table).await?;
        dynamo::connect(&self.client, &self.reservations_table).await
    }

    pub async fn level(&self, sku: &str) -> Result<Option<Level>, StoreError> {
        self.get(&self.levels_table, "sku", sku)
            .await?
            .map(|item| {
                Ok(Level {
                    on_hand: number(&item, "on_hand")?,
                    reserved: number(&item, "reserved")?,
                })
            })
            .transpose()
    }

    /// Sets how many units are on hand unless more are reserved; the new level, or `None`
    /// when it was refused.
    pub async fn set_on_hand(&self, sku: &str, on_hand: i64) -> Result<Option<Level>, StoreError> {
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
            self.level(sku).await
        } else {
            Ok(None)
        }
    }

    pub async fn reservation(&self, order_id: &str) -> Result<Option<Reservation>, StoreError> {
        self.get(&self.reservations_table, "order_id", order_id)
            .await?
            .map(|item| serde_dynamo::from_item::<_, ReservationRecord>(item)?.into_reservation())
            .transpose()
    }

    /// Reserves `lines` for the order in one transaction: the reservation (item 0), then one
    /// move of units per line (items 1..).
    pub async fn take(&self, order_id: &str, lines: &[Line]) -> Result<Taken, StoreError> {
        let reservation = Reservation {
            order_id: order_id.to_owned(),
            status: ReservationStatus::Reserved,
            lines: lines.to_vec(),
        };
        let mut request = self.client.transact_write_items().transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.reservations_table)
                        .set_item(Some(record_item(&reservation)?))
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
        match dynamo::classify_transaction(request.send().await) {
            Ok(_) => Ok(Taken::Now),
            Err(TransactionError::ConditionsFailed(items)) if items.contains(&0) => {
                Ok(Taken::OrderHasReservation)
            }
            Err(TransactionError::ConditionsFailed(items)) => Ok(Taken::Short(
                items
                    .iter()
                    .filter_map(|item| lines.get(item - 1))
                    .map(|line| line.sku.clone())
                    .collect(),
            )),
            Err(TransactionError::Conflict) => Ok(Taken::Contended),
            Err(TransactionError::Dynamo(error)) => Err(error.into()),
        }
    }

    /// Stores `reservation` for an order that has none; `false` when one was written first.
    pub async fn put_new(&self, reservation: &Reservation) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.reservations_table)
            .set_item(Some(record_item(reservation)?))
            .condition_expression("attribute_not_exists(order_id)")
            .send()
            .await;
        Ok(shop_aws::condition_held(result)?)
    }

    /// Marks the reservation released and moves its lines back to available, in one
    /// transaction; `false` when it did not happen because the reservation was no longer
    /// RESERVED or another transaction wrote the same items meanwhile.
    pub async fn give_back(&self, order_id: &str, lines: &[Line]) -> Result<bool, StoreError> {
        let mut request = self.client.transact_write_items().transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.reservations_table)
                        .key("order_id", s(order_id))
                        .update_expression("SET #status = :released")
                        .condition_expression("#status = :reserved")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(
                            ":released",
                            status_value(ReservationStatus::Released)?,
                        )
                        .expression_attribute_values(
                            ":reserved",
                            status_value(ReservationStatus::Reserved)?,
                        )
                        .build()
                        .expect("table, key and expression are set"),
                )
                .build(),
        );
        for line in lines {
            request = request.transact_items(self.move_units(
                &line.sku,
                -line.quantity,
                "attribute_exists(sku)",
            ));
        }
        match dynamo::classify_transaction(request.send().await) {
            Ok(_) => Ok(true),
            Err(TransactionError::ConditionsFailed(_) | TransactionError::Conflict) => Ok(false),
            Err(TransactionError::Dynamo(error)) => Err(error.into()),
        }
    }

    /// One item, read consistently: levels and reservations are decided on, never only shown.
    async fn get(&self, table: &str, key: &str, value: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(table)
            .key(key, s(value))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
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
}

fn record_item(reservation: &Reservation) -> Result<Item, StoreError> {
    Ok(serde_dynamo::to_item(ReservationRecord::new(reservation)?)?)
}

fn status_value(status: ReservationStatus) -> Result<AttributeValue, StoreError> {
    Ok(serde_dynamo::to_attribute_value(status)?)
}

fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("stock level without {name}")))
}
