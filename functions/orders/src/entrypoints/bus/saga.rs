//! Starts the place-order saga for each OrderPlaced on the bus (run by `orders-saga-starter`).
//!
//! EventBridge could start the state machine itself, but it names executions at random; this
//! function names each execution after its order, so a redelivered OrderPlaced finds the
//! execution already there and starts nothing. Each outcome is counted with the event's id
//! (`SagasStarted`, `SagaAlreadyStarted`), so a duplicate delivery can be seen to have arrived
//! and been ignored.
//!
//! Step Functions refuses a second execution of a name with `ExecutionAlreadyExists` once the
//! first has ended or when its input differs; while it runs with the same input, Standard
//! workflows answer the second StartExecution as the first. Either way one saga runs.

use aws_sdk_sfn::{Client, operation::start_execution::StartExecutionError};
use serde::{Deserialize, Serialize};
use shop_events::Delivery;
use shop_observability::{Metrics, metric_names};

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
    #[error("cannot serialise the saga's input")]
    Input(#[from] serde_json::Error),
}

#[derive(Debug, Clone)]
pub struct SagaStarter {
    pub client: Client,
    pub state_machine_arn: String,
}

impl SagaStarter {
    /// Starts the saga of the placed order, unless it was started already.
    pub async fn handle(&self, delivery: Delivery<SagaStart>) -> Result<(), StartError> {
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
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&input.order_id)
            .input(serde_json::to_string(&input)?)
            .send()
            .await;
        let outcome = match result {
            Ok(_) => {
                tracing::info!(order_id = input.order_id, "saga started");
                metric_names::SAGAS_STARTED
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(StartExecutionError::is_execution_already_exists) =>
            {
                tracing::info!(
                    order_id = input.order_id,
                    "saga already started; duplicate OrderPlaced ignored"
                );
                metric_names::SAGA_ALREADY_STARTED
            }
            Err(error) => return Err(StartError::StepFunctions(Box::new(error.into()))),
        };
        Metrics::new(crate::SERVICE)
            .property("order_id", input.order_id)
            .property("event_id", event_id)
            .count(outcome.name, 1)
            .emit();
        Ok(())
    }
}
