//! The saga starter against moto, with the saga as an Express workflow (the template's
//! `SagaWorkflowType=EXPRESS`): its claim, a conditional write, is what keeps a redelivered
//! OrderPlaced from starting a second execution. AWS does not deduplicate Express executions
//! by name but moto does, so these tests never let moto's refusal decide: a repeat delivery is
//! given a Step Functions client that reaches nothing, and only the claim can answer it.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use orders::{
    adapters::SagaClaims,
    entrypoints::bus::saga::{Outcome, SagaLine, SagaStart, SagaStarter, StartError},
};
use shop_events::Delivery;
use shop_observability::{capture::CapturedMetrics, metric_names};
use shop_testkit::{Moto, stack};
use time::OffsetDateTime;

struct Setup {
    config: SdkConfig,
    state_machine_arn: String,
    claims_table: String,
}

async fn setup() -> Setup {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[("SagaWorkflowType", "EXPRESS")]).await;
    Setup {
        state_machine_arn: stack::name(&resolver, "PlaceOrderStateMachine"),
        claims_table: stack::name(&resolver, "OrderSagaClaimsTable"),
        config,
    }
}

impl Setup {
    fn starter_with(&self, sfn: &SdkConfig) -> SagaStarter {
        SagaStarter {
            client: aws_sdk_sfn::Client::new(sfn),
            state_machine_arn: self.state_machine_arn.clone(),
            claims: SagaClaims::new(
                aws_sdk_dynamodb::Client::new(&self.config),
                self.claims_table.clone(),
            ),
        }
    }

    /// A starter whose Step Functions calls reach moto.
    fn starter(&self) -> SagaStarter {
        self.starter_with(&self.config)
    }

    /// A starter whose Step Functions calls fail: nothing listens on its endpoint. Its
    /// claims still reach moto's DynamoDB.
    fn starter_without_step_functions(&self) -> SagaStarter {
        let unreachable = self
            .config
            .to_builder()
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        self.starter_with(&unreachable)
    }

    async fn claim(&self, order_id: &str) -> Option<HashMap<String, AttributeValue>> {
        aws_sdk_dynamodb::Client::new(&self.config)
            .get_item()
            .table_name(&self.claims_table)
            .key("order_id", AttributeValue::S(order_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    async fn executions_named(&self, order_id: &str) -> usize {
        aws_sdk_sfn::Client::new(&self.config)
            .list_executions()
            .state_machine_arn(&self.state_machine_arn)
            .send()
            .await
            .unwrap()
            .executions()
            .iter()
            .filter(|execution| execution.name() == order_id)
            .count()
    }
}

fn order_placed(event_id: uuid::Uuid, order_id: &str) -> Delivery<SagaStart> {
    Delivery {
        event_id,
        event_type: "OrderPlaced".to_owned(),
        sequence: 1,
        correlation_id: "test".to_owned(),
        occurred_at: OffsetDateTime::now_utc(),
        event: SagaStart::OrderPlaced {
            order_id: order_id.to_owned(),
            customer_id: "c-1".to_owned(),
            lines: vec![SagaLine {
                sku: "KETTLE".to_owned(),
                quantity: 1,
            }],
            total_cents: 2999,
            currency: "EUR".to_owned(),
            card_token_ciphertext: "sealed".to_owned(),
        },
    }
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> &'a str {
    item[name].as_s().unwrap()
}

#[tokio::test]
async fn a_second_delivery_of_the_same_order_placed_is_refused_by_the_claim_alone() {
    let setup = setup().await;
    let order_id = uuid::Uuid::new_v4().to_string();
    let event_id = uuid::Uuid::new_v4();
    let (captured, _guard) = CapturedMetrics::start();

    let first = setup
        .starter()
        .handle(order_placed(event_id, &order_id))
        .await
        .unwrap();
    let claim = setup.claim(&order_id).await.unwrap();
    assert_eq!(first, Outcome::Started);
    assert_eq!(text(&claim, "state"), "STARTED");
    assert!(
        text(&claim, "execution_arn").ends_with(&order_id),
        "{claim:?}"
    );
    assert_eq!(text(&claim, "event_id"), event_id.to_string());

    // The same event again. Had the starter called StartExecution, this client would have
    // failed it; the conditional write refused the delivery before that.
    let repeat = setup
        .starter_without_step_functions()
        .handle(order_placed(event_id, &order_id))
        .await
        .unwrap();
    assert_eq!(repeat, Outcome::RefusedByClaim);
    assert_eq!(setup.executions_named(&order_id).await, 1);
    assert_eq!(captured.data(metric_names::SAGAS_STARTED.name).len(), 1);
    let refusals: Vec<_> = captured
        .documents()
        .into_iter()
        .filter(|d| d.get(metric_names::SAGA_ALREADY_STARTED.name).is_some())
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0]["refused_by"], "claim");
    assert_eq!(refusals[0]["event_id"], event_id.to_string().as_str());
}

#[tokio::test]
async fn a_start_that_failed_gives_its_claim_back_so_the_retry_starts_the_saga() {
    let setup = setup().await;
    let order_id = uuid::Uuid::new_v4().to_string();
    let event_id = uuid::Uuid::new_v4();

    let failed = setup
        .starter_without_step_functions()
        .handle(order_placed(event_id, &order_id))
        .await;
    assert!(
        matches!(failed, Err(StartError::StepFunctions(_))),
        "{failed:?}"
    );
    assert_eq!(
        setup.claim(&order_id).await,
        None,
        "the claim was given back"
    );

    let retried = setup
        .starter()
        .handle(order_placed(event_id, &order_id))
        .await
        .unwrap();
    assert_eq!(retried, Outcome::Started);
    assert_eq!(setup.executions_named(&order_id).await, 1);
}

#[tokio::test]
async fn a_claim_left_starting_shuts_others_out_for_its_lease_then_is_taken_over() {
    let setup = setup().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&setup.config);
    let left_by_a_starter_that_died = |order_id: &str, claimed_at: OffsetDateTime| {
        dynamodb
            .put_item()
            .table_name(&setup.claims_table)
            .item("order_id", AttributeValue::S(order_id.to_owned()))
            .item("state", AttributeValue::S("STARTING".to_owned()))
            .item("claim_id", AttributeValue::S("the-dead-one".to_owned()))
            .item(
                "claimed_at",
                AttributeValue::N(claimed_at.unix_timestamp().to_string()),
            )
            .send()
    };
    let now = OffsetDateTime::now_utc();

    // Within the lease its holder may still be starting the saga: another delivery waits.
    let fresh = uuid::Uuid::new_v4().to_string();
    left_by_a_starter_that_died(&fresh, now).await.unwrap();
    let refused = setup
        .starter_without_step_functions()
        .handle(order_placed(uuid::Uuid::new_v4(), &fresh))
        .await
        .unwrap();
    assert_eq!(refused, Outcome::RefusedByClaim);

    // Past the lease the holder has ended (the lease outlasts the function's timeout).
    let stale = uuid::Uuid::new_v4().to_string();
    let past_the_lease = now - orders::adapters::saga_claims::CLAIM_LEASE - time::Duration::SECOND;
    left_by_a_starter_that_died(&stale, past_the_lease)
        .await
        .unwrap();
    let taken_over = setup
        .starter()
        .handle(order_placed(uuid::Uuid::new_v4(), &stale))
        .await
        .unwrap();
    assert_eq!(taken_over, Outcome::Started);
    let claim = setup.claim(&stale).await.unwrap();
    assert_eq!(text(&claim, "state"), "STARTED");
    assert_ne!(text(&claim, "claim_id"), "the-dead-one");
}
