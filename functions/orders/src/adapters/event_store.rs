//! The event store: one item per event, keyed by order (`order_id`) and `sequence`.
//!
//! All events of one command are appended in one transaction, each put conditional on its
//! (order, sequence) being free. Two commands decided on the same version both try to write
//! sequence `version + 1`; DynamoDB lets exactly one transaction through, and the other fails
//! as a whole. That is optimistic concurrency without a separate version item.

use std::{collections::HashMap, time::Duration};

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, Put, TransactWriteItem},
};
use serde::{Deserialize, Serialize};
use shop_aws::dynamo::{self, DynamoError, TransactionError};
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::{OrderEvent, Recorded};

/// An event as stored (and as the table's stream carries it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub order_id: String,
    pub sequence: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's data as JSON text: one opaque attribute keeps the item independent of the
    /// event's shape.
    pub data: String,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub customer_id: String,
    /// The order's id: everything in one order's life shares it.
    pub correlation_id: String,
    /// The request or message that caused this event.
    pub causation_id: String,
}

impl StoredEvent {
    pub fn recorded(&self) -> Result<Recorded, StoreError> {
        let data: serde_json::Value = serde_json::from_str(&self.data)?;
        let event: OrderEvent =
            serde_json::from_value(serde_json::json!({"type": self.event_type, "data": data}))?;
        Ok(Recorded {
            sequence: self.sequence,
            occurred_at: self.occurred_at,
            event,
        })
    }

    pub fn data_json(&self) -> Result<serde_json::Value, StoreError> {
        Ok(serde_json::from_str(&self.data)?)
    }
}

/// How long a claimed `Idempotency-Key` answers retries. A client retries within minutes; a
/// key kept for ever would let one reused a year later replay a year-old order.
pub const KEY_LIFETIME: Duration = Duration::from_hours(24);

/// An `Idempotency-Key` claimed in the same transaction as the events it produced. It expires
/// [`KEY_LIFETIME`] after the claim (`expires_at`, the table's TTL attribute): DynamoDB deletes
/// expired items up to two days late (and moto never), so an expired key is treated as absent
/// when read, and a new claim may take its place.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// `<customer id>#<key>`: keys are scoped to the customer who sent them.
    pub key: String,
    /// SHA-256 of the request body, to tell a retry from a reuse of the key.
    pub request_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("another command changed the order first")]
    Conflict,
    #[error("the idempotency key was claimed by another request first")]
    KeyClaimed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct EventStore {
    client: Client,
    events_table: String,
    idempotency_table: String,
}

type Item = HashMap<String, AttributeValue>;

impl EventStore {
    pub fn new(client: Client, events_table: String, idempotency_table: String) -> Self {
        Self {
            client,
            events_table,
            idempotency_table,
        }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.events_table).await?;
        dynamo::connect(&self.client, &self.idempotency_table).await
    }

    /// The events of one order in sequence order, the first `up_to` of them when given.
    pub async fn load(
        &self,
        order_id: &str,
        up_to: Option<u64>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.events_table)
                .consistent_read(true)
                .expression_attribute_values(":order", AttributeValue::S(order_id.to_owned()))
                .set_exclusive_start_key(start);
            query = match up_to {
                Some(last) => query
                    .key_condition_expression("order_id = :order AND #sequence <= :last")
                    .expression_attribute_names("#sequence", "sequence")
                    .expression_attribute_values(":last", AttributeValue::N(last.to_string())),
                None => query.key_condition_expression("order_id = :order"),
            };
            let page = query.send().await?;
            for item in page.items.unwrap_or_default() {
                events.push(serde_dynamo::from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(events),
            }
        }
    }

    /// Appends `events` after `expected_version`, atomically, with the idempotency claim.
    pub async fn append(
        &self,
        events: &[StoredEvent],
        claim: Option<&IdempotencyClaim>,
    ) -> Result<(), AppendError> {
        let mut request = self.client.transact_write_items();
        for event in events {
            let item: Item = serde_dynamo::to_item(event).map_err(StoreError::from)?;
            request = request.transact_items(put(
                &self.events_table,
                item,
                "attribute_not_exists(order_id)",
            ));
        }
        if let (Some(claim), Some(first)) = (claim, events.first()) {
            let claimed_at = first.occurred_at.unix_timestamp();
            let expires_at = first.occurred_at + KEY_LIFETIME;
            let item = HashMap::from([
                ("key".to_owned(), AttributeValue::S(claim.key.clone())),
                (
                    "request_hash".to_owned(),
                    AttributeValue::S(claim.request_hash.clone()),
                ),
                (
                    "order_id".to_owned(),
                    AttributeValue::S(first.order_id.clone()),
                ),
                (
                    "expires_at".to_owned(),
                    AttributeValue::N(expires_at.unix_timestamp().to_string()),
                ),
            ]);
            let claim = Put::builder()
                .table_name(&self.idempotency_table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#key) OR expires_at <= :now")
                .expression_attribute_names("#key", "key")
                .expression_attribute_values(":now", AttributeValue::N(claimed_at.to_string()))
                .build()
                .expect("table, item and condition are set");
            request = request.transact_items(TransactWriteItem::builder().put(claim).build());
        }
        appended(
            dynamo::classify_transaction(request.send().await).map(|_| ()),
            events.len(),
        )
    }

    /// The order an idempotency key produced, and the hash of the request that claimed it;
    /// `None` for a key never claimed or expired by `now`.
    pub async fn claimed(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(String, String)>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.idempotency_table)
            .key("key", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let text = |name: &str| {
            item.get(name)
                .and_then(|value| value.as_s().ok())
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("idempotency key {key} has no {name}")))
        };
        // Keys claimed before keys expired carry no `expires_at`; they stay as they were.
        let expired = match item.get("expires_at") {
            None => false,
            Some(value) => {
                let expires_at: i64 =
                    value
                        .as_n()
                        .ok()
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!(
                                "idempotency key {key} has an unreadable expires_at"
                            ))
                        })?;
                expires_at <= now.unix_timestamp()
            }
        };
        if expired {
            return Ok(None);
        }
        Ok(Some((text("order_id")?, text("request_hash")?)))
    }

    /// Every event of every order, page by page (for rebuilding the read model).
    pub async fn scan(&self, mut page: impl FnMut(Vec<StoredEvent>)) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.events_table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            let events = output
                .items
                .unwrap_or_default()
                .into_iter()
                .map(serde_dynamo::from_item)
                .collect::<Result<Vec<StoredEvent>, _>>()?;
            page(events);
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(()),
            }
        }
    }
}

fn put(table: &str, item: Item, condition: &str) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition);
    TransactWriteItem::builder()
        .put(put.build().expect("table and item are set"))
        .build()
}

/// What an append's transaction came to. The events are its first `event_count` items and the
/// idempotency claim the one after them: a failed event condition means the order moved on
/// (a conflict), a failed claim that another request with the same key won. A
/// `TransactionConflict` is the same race caught while both transactions ran, so it is a
/// conflict too: the command is decided again on fresh state, never answered with a 500.
fn appended(result: Result<(), TransactionError>, event_count: usize) -> Result<(), AppendError> {
    match result {
        Ok(()) => Ok(()),
        Err(TransactionError::ConditionsFailed(items))
            if items.iter().any(|&item| item < event_count) =>
        {
            Err(AppendError::Conflict)
        }
        Err(TransactionError::ConditionsFailed(_)) => Err(AppendError::KeyClaimed),
        Err(TransactionError::Conflict) => Err(AppendError::Conflict),
        Err(TransactionError::Dynamo(error)) => Err(StoreError::from(error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_event_condition_is_a_conflict_and_a_failed_claim_a_claimed_key() {
        let failed = |items: Vec<usize>| Err(TransactionError::ConditionsFailed(items));
        assert!(matches!(
            appended(failed(vec![0]), 2),
            Err(AppendError::Conflict)
        ));
        assert!(matches!(
            appended(failed(vec![1, 2]), 2),
            Err(AppendError::Conflict)
        ));
        assert!(matches!(
            appended(failed(vec![2]), 2),
            Err(AppendError::KeyClaimed)
        ));
    }

    #[test]
    fn a_transaction_conflict_is_a_conflict_to_decide_again_not_a_store_failure() {
        assert!(matches!(
            appended(Err(TransactionError::Conflict), 1),
            Err(AppendError::Conflict)
        ));
    }
}
