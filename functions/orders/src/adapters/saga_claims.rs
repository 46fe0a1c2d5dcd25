//! The saga starter's claims: one item per order in `SAGA_CLAIMS_TABLE`, written with a
//! condition before the place-order saga is started, so one delivery of OrderPlaced starts it
//! and every other delivery of it finds the claim and starts nothing.
//!
//! Step Functions refuses a second Standard execution of the same name, but an Express
//! workflow takes any number (AWS does not deduplicate Express executions by name), so the
//! starter cannot lean on the name. A claim is `STARTING` while its holder starts the saga and
//! `STARTED` once the execution exists. A holder whose start failed deletes its claim before
//! it fails, so its retry claims again; a holder that died between claiming and starting
//! leaves a `STARTING` claim that another delivery may take over once [`CLAIM_LEASE`] has
//! passed. The one window left (the execution started, then the holder died before marking
//! it) can start a second Express execution after the lease, which the saga's tasks absorb:
//! they are idempotent per order, as asynchronous Express workflows (at-least-once) need.

use std::collections::HashMap;

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use shop_aws::dynamo::{self, DynamoError};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long a `STARTING` claim shuts out other deliveries: longer than the starter's timeout
/// (10 s in the template), so a claim is only ever taken over from an invocation that ended.
pub const CLAIM_LEASE: Duration = Duration::minutes(1);

/// How long a claim is kept (DynamoDB's TTL deletes it after): as long as Step Functions keeps
/// a Standard execution's name, and longer than the bus archive (30 days), so a replayed
/// OrderPlaced still finds its claim.
pub const CLAIM_KEPT: Duration = Duration::days(90);

const STARTING: &str = "STARTING";
const STARTED: &str = "STARTED";

/// A claim this delivery holds on an order's saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub order_id: String,
    /// Names this holder's claim, so it marks or releases only its own.
    pub claim_id: String,
}

#[derive(Debug, Clone)]
pub struct SagaClaims {
    client: Client,
    table: String,
}

impl SagaClaims {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.table).await
    }

    /// Claims the order's saga for the delivery of `event_id` at `now`; `None` when it was
    /// started already or another delivery is starting it within its lease.
    pub async fn claim(
        &self,
        order_id: &str,
        event_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Claim>, DynamoError> {
        let claim = Claim {
            order_id: order_id.to_owned(),
            claim_id: Uuid::new_v4().to_string(),
        };
        let item = HashMap::from([
            ("order_id".to_owned(), s(order_id)),
            ("state".to_owned(), s(STARTING)),
            ("claim_id".to_owned(), s(&claim.claim_id)),
            ("event_id".to_owned(), s(event_id)),
            ("claimed_at".to_owned(), n(now.unix_timestamp())),
            (
                "expires_at".to_owned(),
                n((now + CLAIM_KEPT).unix_timestamp()),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(order_id) OR (#state = :starting AND claimed_at < :stale)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":starting", s(STARTING))
            .expression_attribute_values(":stale", n((now - CLAIM_LEASE).unix_timestamp()))
            .send()
            .await;
        Ok(shop_aws::condition_held(result)?.then_some(claim))
    }

    /// Records that the claim's saga runs as `execution_arn`: no delivery takes it over now.
    /// `false` when the claim is no longer this holder's (it outlived its lease).
    pub async fn mark_started(
        &self,
        claim: &Claim,
        execution_arn: &str,
    ) -> Result<bool, DynamoError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", s(&claim.order_id))
            .update_expression("SET #state = :started, execution_arn = :arn")
            .condition_expression("claim_id = :mine")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":started", s(STARTED))
            .expression_attribute_values(":arn", s(execution_arn))
            .expression_attribute_values(":mine", s(&claim.claim_id))
            .send()
            .await;
        Ok(shop_aws::condition_held(result)?)
    }

    /// Gives up a claim whose saga did not start, so the delivery's retry can claim again.
    pub async fn release(&self, claim: &Claim) -> Result<(), DynamoError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("order_id", s(&claim.order_id))
            .condition_expression("claim_id = :mine AND #state = :starting")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":mine", s(&claim.claim_id))
            .expression_attribute_values(":starting", s(STARTING))
            .send()
            .await;
        shop_aws::condition_held(result)?;
        Ok(())
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
