//! Payments against DynamoDB on moto with the simulated provider: every test token, and
//! idempotent authorize, void and refund.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use payments::{
    adapters::{PaymentsTable, SimulatedProvider},
    domain::PaymentStatus,
    entrypoints::tasks::{self, Task},
    service::{PaymentError, Payments},
};
use shop_testkit::{Moto, stack};

async fn payments() -> Payments<SimulatedProvider> {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    Payments {
        table: PaymentsTable::new(
            aws_sdk_dynamodb::Client::new(&config),
            stack::name(&resolver, "PaymentsTable"),
        ),
        provider: SimulatedProvider {
            timeout: Duration::from_millis(50),
        },
    }
}

#[tokio::test]
async fn tok_visa_is_authorized_once_however_often_it_is_asked() {
    let payments = payments().await;
    let first = payments
        .authorize("o-1", "tok_visa", 2500, "EUR")
        .await
        .unwrap();
    let again = payments
        .authorize("o-1", "tok_visa", 2500, "EUR")
        .await
        .unwrap();
    assert_eq!(first.status, PaymentStatus::Authorized);
    assert_eq!(first.authorization_id, again.authorization_id);
    assert_eq!(again.attempts, 1, "the repeat did not reach the provider");
}

#[tokio::test]
async fn an_amount_other_than_the_first_is_refused() {
    let payments = payments().await;
    payments
        .authorize("o-1", "tok_visa", 2500, "EUR")
        .await
        .unwrap();
    assert!(matches!(
        payments.authorize("o-1", "tok_visa", 9999, "EUR").await,
        Err(PaymentError::Invalid(_))
    ));
}

#[tokio::test]
async fn tok_declined_is_declined_and_stays_declined() {
    let payments = payments().await;
    assert!(matches!(
        payments.authorize("o-1", "tok_declined", 100, "EUR").await,
        Err(PaymentError::Declined)
    ));
    assert!(matches!(
        payments.authorize("o-1", "tok_declined", 100, "EUR").await,
        Err(PaymentError::Declined)
    ));
    assert_eq!(
        payments.table.get("o-1").await.unwrap().unwrap().status,
        PaymentStatus::Declined
    );
}

#[tokio::test]
async fn tok_timeout_times_out_on_every_attempt_and_voiding_closes_it() {
    let payments = payments().await;
    for _ in 0..3 {
        assert!(matches!(
            payments.authorize("o-1", "tok_timeout", 100, "EUR").await,
            Err(PaymentError::Timeout)
        ));
    }
    let pending = payments.table.get("o-1").await.unwrap().unwrap();
    assert_eq!(
        (pending.status, pending.attempts),
        (PaymentStatus::Pending, 3)
    );
    assert_eq!(
        payments.void("o-1").await.unwrap().unwrap().status,
        PaymentStatus::Voided
    );
    assert!(matches!(
        payments.authorize("o-1", "tok_timeout", 100, "EUR").await,
        Err(PaymentError::Closed)
    ));
}

#[tokio::test]
async fn tok_flaky_fails_once_then_authorizes() {
    let payments = payments().await;
    assert!(matches!(
        payments.authorize("o-1", "tok_flaky", 100, "EUR").await,
        Err(PaymentError::Timeout)
    ));
    let second = payments
        .authorize("o-1", "tok_flaky", 100, "EUR")
        .await
        .unwrap();
    assert_eq!(
        (second.status, second.attempts),
        (PaymentStatus::Authorized, 2)
    );
}

#[tokio::test]
async fn void_and_refund_are_idempotent_and_refunds_never_exceed_the_authorization() {
    let payments = payments().await;
    payments
        .authorize("o-1", "tok_visa", 2500, "EUR")
        .await
        .unwrap();
    let refunded = payments.refund("o-1").await.unwrap().unwrap();
    assert_eq!(
        (refunded.status, refunded.refunded_cents),
        (PaymentStatus::Refunded, 2500)
    );
    let again = payments.refund("o-1").await.unwrap().unwrap();
    assert_eq!(again.refunded_cents, 2500);
    assert_eq!(
        payments.void("o-1").await.unwrap().unwrap().status,
        PaymentStatus::Refunded,
        "a refunded payment stays refunded"
    );
}

#[tokio::test]
async fn voiding_or_refunding_nothing_succeeds_and_a_void_blocks_a_late_authorization() {
    let payments = payments().await;
    assert!(payments.refund("never-paid").await.unwrap().is_none());
    assert_eq!(
        payments.void("o-late").await.unwrap().unwrap().status,
        PaymentStatus::Voided
    );
    assert!(matches!(
        payments.authorize("o-late", "tok_visa", 100, "EUR").await,
        Err(PaymentError::Invalid(_) | PaymentError::Closed)
    ));
}

#[tokio::test]
async fn task_errors_carry_the_types_the_state_machine_matches() {
    let payments = payments().await;
    let task = |token: &str| -> Task {
        serde_json::from_value(serde_json::json!({
            "task": "AuthorizePayment", "order_id": format!("o-{token}"), "card_token": token, "amount_cents": 100, "currency": "EUR"
        }))
        .unwrap()
    };
    assert_eq!(
        tasks::run(&payments, task("tok_declined"))
            .await
            .unwrap_err()
            .error_type,
        "PaymentDeclined"
    );
    assert_eq!(
        tasks::run(&payments, task("tok_timeout"))
            .await
            .unwrap_err()
            .error_type,
        "PaymentTimeout"
    );
    let ok = tasks::run(&payments, task("tok_visa")).await.unwrap();
    assert_eq!(ok["payment"]["status"], "AUTHORIZED");
}
