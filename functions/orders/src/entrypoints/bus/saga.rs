//! Starts the place-order saga for each OrderPlaced on the bus (run by `orders-saga-starter`).
//!
//! EventBridge could start the state machine itself, but it names executions at random; this
//! function names each execution after its order, so a redelivered OrderPlaced finds the
//! execution already there and starts nothing.

use aws_sdk_sfn::{
    Client, error::DisplayErrorContext, operation::start_execution::StartExecutionError,
};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("not an OrderPlaced event: {0}")]
    Unreadable(String),
    #[error("Step Functions failed: {0}")]
    StepFunctions(String),
}

#[derive(Debug, Clone)]
pub struct SagaStarter {
    pub client: Client,
    pub state_machine_arn: String,
}

impl SagaStarter {
    /// Starts the saga of the order in `event`; `false` when it had been started already.
    pub async fn handle(&self, event: &Value) -> Result<bool, StartError> {
        let data = &event["detail"]["data"];
        let order_id = data["order_id"]
            .as_str()
            .ok_or_else(|| StartError::Unreadable("no order_id".into()))?;
        let input = json!({
            "order_id": order_id,
            "customer_id": data["customer_id"],
            "lines": data["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|line| json!({"sku": line["sku"], "quantity": line["quantity"]}))
                .collect::<Vec<_>>(),
            "amount_cents": data["total_cents"],
            "currency": data["currency"],
            "card_token": data["card_token"],
        });
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(order_id)
            .input(input.to_string())
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(order_id, correlation_id = order_id, "saga started");
                Ok(true)
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(StartExecutionError::is_execution_already_exists) =>
            {
                tracing::info!(
                    order_id,
                    "saga already started; duplicate OrderPlaced ignored"
                );
                Ok(false)
            }
            Err(error) => Err(StartError::StepFunctions(
                DisplayErrorContext(error).to_string(),
            )),
        }
    }
}
