//! Starts the place-order saga for each OrderPlaced on the bus (run by `orders-saga-starter`).
//!
//! EventBridge could start the state machine itself, but a bus delivers at least once and
//! Step Functions deduplicates execution names only for Standard workflows; the template lets
//! a parameter choose Express, which takes any number of executions of one name. So the
//! starter claims the order with a conditional write first ([`SagaClaims`]) and starts the
//! saga only when the claim is its own: a redelivered OrderPlaced finds the claim and starts
//! nothing, whatever the workflow type. Executions are still named after their order, so a
//! Standard saga that somehow lost its claim is refused by name (`ExecutionAlreadyExists`) as
//! well. Each outcome is counted with the event's id and what refused a repeat
//! (`SagasStarted`, `SagaAlreadyStarted` with `refused_by`), so a duplicate delivery can be
//! seen to have arrived and been ignored.

use aws_sdk_sfn::{Client, operation::start_execution::StartExecutionError};
use serde::{Deserialize, Serialize};
use shop_aws::dynamo::DynamoError;
use shop_events::Delivery;
use shop_observability::{Metrics, metric_names};
use time::OffsetDateTime;

use crate::adapters::{Claim, SagaClaims};

shop_events::inbox! {
    /// The event that starts a saga.
    pub enum SagaStart {
        OrderPlaced from "shop.orders" {
            order_id: String,
            customer_id: String,
            lines: Vec<SagaLine>,
            total_cents: i64,
            currency: String,
            card_token_ciphertext: String,
        },
    }
}

/// A line as the saga's tasks need it: what to reserve.
#[derive(Debug, Deserialize, Serialize)]
pub struct SagaLine {
    pub sku: String,
    pub quantity: i64,
}

/// The execution's input, which the state machine passes on to its tasks. Step Functions keeps
/// it in the execution's history for 90 days after the execution ends, so the card token goes
/// on sealed, as orders stored it: only payments' AuthorizePayment task can open it.
#[derive(Debug, Serialize)]
struct SagaInput {
    order_id: String,
    customer_id: String,
    lines: Vec<SagaLine>,
    amount_cents: i64,
    currency: String,
    card_token_ciphertext: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Step Functions failed")]
    StepFunctions(#[source] Box<aws_sdk_sfn::Error>),
    #[error("the saga's claim could not be written")]
    Claim(#[from] DynamoError),
    #[error("cannot serialise the saga's input")]
    Input(#[from] serde_json::Error),
}

/// What one delivery of OrderPlaced did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Started,
    /// Started by an earlier delivery, or being started by another one right now.
    RefusedByClaim,
    /// The claim was this delivery's, but Step Functions already had the execution.
    RefusedByName,
}

#[derive(Debug, Clone)]
pub struct SagaStarter {
    pub client: Client,
    pub state_machine_arn: String,
    pub claims: SagaClaims,
}

impl SagaStarter {
    /// Starts the saga of the placed order, unless it was started already.
    pub async fn handle(&self, delivery: Delivery<SagaStart>) -> Result<Outcome, StartError> {
        let event_id = delivery.event_id.to_string();
        let SagaStart::OrderPlaced {
            order_id,
            customer_id,
            lines,
            total_cents,
            currency,
            card_token_ciphertext,
        } = delivery.event;
        let input = SagaInput {
            order_id,
            customer_id,
            lines,
            amount_cents: total_cents,
            currency,
            card_token_ciphertext,
        };
        let outcome = self.start_once(&input, &event_id).await?;
        let metrics = Metrics::new(crate::SERVICE)
            .property("order_id", input.order_id)
            .property("event_id", event_id);
        match outcome {
            Outcome::Started => metrics.count(metric_names::SAGAS_STARTED.name, 1),
            Outcome::RefusedByClaim => metrics
                .property("refused_by", "claim")
                .count(metric_names::SAGA_ALREADY_STARTED.name, 1),
            Outcome::RefusedByName => metrics
                .property("refused_by", "execution_name")
                .count(metric_names::SAGA_ALREADY_STARTED.name, 1),
        }
        .emit();
        Ok(outcome)
    }

    /// Claims the order, then starts its execution; gives the claim back when the start
    /// failed, so the delivery's retry can try again.
    async fn start_once(&self, input: &SagaInput, event_id: &str) -> Result<Outcome, StartError> {
        let Some(claim) = self
            .claims
            .claim(&input.order_id, event_id, OffsetDateTime::now_utc())
            .await?
        else {
            return Ok(Outcome::RefusedByClaim);
        };
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&input.order_id)
            .input(serde_json::to_string(input)?)
            .send()
            .await;
        let (outcome, execution_arn) = match result {
            Ok(started) => (Outcome::Started, started.execution_arn),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(StartExecutionError::is_execution_already_exists) =>
            {
                (Outcome::RefusedByName, String::new())
            }
            Err(error) => {
                self.give_back(&claim).await;
                return Err(StartError::StepFunctions(Box::new(error.into())));
            }
        };
        if !self.claims.mark_started(&claim, &execution_arn).await? {
            // Only a holder slower than the lease gets here; the saga runs, and the other
            // delivery that took the claim over has started it again (idempotent tasks).
            tracing::warn!(
                order_id = input.order_id,
                "the saga's claim outlived its lease and was taken over"
            );
        }
        Ok(outcome)
    }

    async fn give_back(&self, claim: &Claim) {
        if let Err(error) = self.claims.release(claim).await {
            // The claim then waits out its lease before a retry can take it over.
            tracing::warn!(
                order_id = claim.order_id,
                error = shop_aws::error_chain(&error),
                "the claim of a saga that did not start could not be given back"
            );
        }
    }
}
