//! The business metrics payments emits, against DynamoDB on moto with the simulated provider:
//! a decline is counted by the authorization that stored it, and a void that released a hold
//! is one VoidPayment compensation; repeats, voids of nothing and refunds count nothing.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use payments::{
    adapters::{PaymentsTable, SimulatedProvider},
    service::{PaymentError, Payments},
};
use shop_observability::{
    capture::{CapturedMetrics, Datum},
    metric_names::{COMPENSATIONS, PAYMENTS_DECLINED},
};
use shop_testkit::{Moto, stack};

const PAYMENTS: (&str, &str) = ("service", "payments");

async fn payments() -> Payments<SimulatedProvider> {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = stack::name(&resolver, "PaymentsTable");
    Payments {
        table: PaymentsTable::new(client.clone(), table.clone()),
        provider: SimulatedProvider::new(client, table, Duration::from_millis(50)),
    }
}

#[tokio::test]
async fn a_decline_is_counted_once_by_the_authorization_that_stored_it() {
    let payments = payments().await;
    let (captured, _guard) = CapturedMetrics::start();

    for _ in 0..2 {
        assert!(matches!(
            payments.authorize("o-1", "tok_declined", 100, "EUR").await,
            Err(PaymentError::Declined)
        ));
    }
    payments
        .authorize("o-2", "tok_visa", 100, "EUR")
        .await
        .unwrap();

    assert_eq!(
        captured.data(PAYMENTS_DECLINED.name),
        [Datum::new(&[PAYMENTS], 1.0)]
    );
    assert_eq!(captured.documents().len(), 1);
    assert_eq!(captured.documents()[0]["order_id"], "o-1");
}

#[tokio::test]
async fn a_void_that_released_a_hold_is_one_compensation_and_a_repeat_or_a_void_of_nothing_none() {
    let payments = payments().await;
    payments
        .authorize("o-held", "tok_visa", 100, "EUR")
        .await
        .unwrap();
    // No answer in time: the hold may exist at the provider, so voiding it undoes something.
    assert!(matches!(
        payments
            .authorize("o-pending", "tok_timeout", 100, "EUR")
            .await,
        Err(PaymentError::Timeout)
    ));
    assert!(matches!(
        payments
            .authorize("o-declined", "tok_declined", 100, "EUR")
            .await,
        Err(PaymentError::Declined)
    ));
    let (captured, _guard) = CapturedMetrics::start();

    for order_id in [
        "o-held",
        "o-held",
        "o-pending",
        "o-declined",
        "o-never-paid",
    ] {
        payments.void(order_id).await.unwrap();
    }

    let step = [PAYMENTS, ("step", "VoidPayment")];
    assert_eq!(
        captured.data(COMPENSATIONS.name),
        [Datum::new(&step, 1.0), Datum::new(&step, 1.0)]
    );
    let voided: Vec<_> = captured
        .documents()
        .iter()
        .map(|document| document["order_id"].clone())
        .collect();
    assert_eq!(voided, ["o-held", "o-pending"]);
}

#[tokio::test]
async fn a_refund_of_a_cancelled_order_is_no_compensation() {
    let payments = payments().await;
    payments
        .authorize("o-1", "tok_visa", 100, "EUR")
        .await
        .unwrap();
    let (captured, _guard) = CapturedMetrics::start();

    payments.refund("o-1").await.unwrap();

    assert!(
        captured.documents().is_empty(),
        "{:?}",
        captured.documents()
    );
}
