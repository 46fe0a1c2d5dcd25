//! Payments against DynamoDB on moto with the simulated provider: every test token, idempotent
//! authorize, void and refund, and the provider's books agreeing with ours after each.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_kms::primitives::Blob;
use base64::{Engine, engine::general_purpose::STANDARD};
use payments::{
    adapters::{CardTokenOpener, PaymentsTable, SimulatedProvider},
    domain::PaymentStatus,
    entrypoints::tasks::{self, Task},
    ports::{CardProvider, LedgerEntry, ProviderError},
    service::{PaymentError, Payments},
};
use shop_testkit::{Moto, stack};

async fn payments() -> Payments<SimulatedProvider> {
    with_card_tokens().await.0
}

/// Payments, and the stack's card token key as `payments-tasks` gets it, with what orders does
/// to a token before the saga carries it.
async fn with_card_tokens() -> (Payments<SimulatedProvider>, CardTokenOpener, Sealer) {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = stack::name(&resolver, "PaymentsTable");
    let key_arn = resolver
        .get("CardTokenKey", devstack::template::Attribute::Arn)
        .unwrap()
        .to_owned();
    (
        Payments {
            table: PaymentsTable::new(client.clone(), table.clone()),
            provider: SimulatedProvider::new(client, table, Duration::from_millis(50)),
        },
        CardTokenOpener::new(aws_sdk_kms::Client::new(&config), key_arn.clone()),
        Sealer { config, key_arn },
    )
}

/// Seals a card token as orders does: KMS Encrypt under the order's id, base64.
struct Sealer {
    config: SdkConfig,
    key_arn: String,
}

impl Sealer {
    async fn seal(&self, order_id: &str, card_token: &str) -> String {
        let output = aws_sdk_kms::Client::new(&self.config)
            .encrypt()
            .key_id(&self.key_arn)
            .plaintext(Blob::new(card_token.as_bytes()))
            .encryption_context("order_id", order_id)
            .send()
            .await
            .unwrap();
        STANDARD.encode(output.ciphertext_blob.unwrap().as_ref())
    }
}

fn authorize_task(order_id: &str, card_token_ciphertext: &str) -> Task {
    serde_json::from_value(serde_json::json!({
        "task": "AuthorizePayment", "order_id": order_id,
        "card_token_ciphertext": card_token_ciphertext, "amount_cents": 100, "currency": "EUR"
    }))
    .unwrap()
}

async fn ledger<P: CardProvider>(payments: &Payments<P>, order_id: &str) -> LedgerEntry {
    payments.provider_ledger(order_id).await.unwrap().unwrap()
}

/// (authorized, voided, refunded) in the provider's books.
fn books(entry: &LedgerEntry) -> (i64, i64, i64) {
    (
        entry.authorized_cents,
        entry.voided_cents,
        entry.refunded_cents,
    )
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
    let entry = ledger(&payments, "o-1").await;
    assert_eq!(books(&entry), (2500, 0, 0));
    assert_eq!(entry.authorization_id, first.authorization_id);
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
async fn tok_declined_is_declined_stays_declined_and_holds_nothing() {
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
    let entry = ledger(&payments, "o-1").await;
    assert_eq!((books(&entry), entry.authorization_id), ((0, 0, 0), None));
}

#[tokio::test]
async fn tok_timeout_times_out_on_every_attempt_holding_once_and_voiding_releases_the_hold() {
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
    let entry = ledger(&payments, "o-1").await;
    assert_eq!(
        (entry.attempts, books(&entry)),
        (3, (100, 0, 0)),
        "three answers lost, one hold"
    );
    assert_eq!(
        payments.void("o-1").await.unwrap().unwrap().status,
        PaymentStatus::Voided
    );
    assert_eq!(books(&ledger(&payments, "o-1").await), (100, 100, 0));
    assert!(matches!(
        payments.authorize("o-1", "tok_timeout", 100, "EUR").await,
        Err(PaymentError::Closed)
    ));
}

#[tokio::test]
async fn tok_flaky_loses_its_first_answer_and_the_retry_gets_the_same_hold() {
    let payments = payments().await;
    assert!(matches!(
        payments.authorize("o-1", "tok_flaky", 100, "EUR").await,
        Err(PaymentError::Timeout)
    ));
    let held = ledger(&payments, "o-1").await;
    assert_eq!(books(&held), (100, 0, 0), "the provider held it anyway");
    let second = payments
        .authorize("o-1", "tok_flaky", 100, "EUR")
        .await
        .unwrap();
    assert_eq!(
        (second.status, second.attempts),
        (PaymentStatus::Authorized, 2)
    );
    let entry = ledger(&payments, "o-1").await;
    assert_eq!(second.authorization_id, held.authorization_id);
    assert_eq!(
        (entry.attempts, books(&entry)),
        (2, (100, 0, 0)),
        "no second hold"
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
    assert_eq!(books(&ledger(&payments, "o-1").await), (2500, 0, 2500));
}

#[tokio::test]
async fn voiding_or_refunding_nothing_succeeds_and_a_late_authorization_finds_the_payment_closed() {
    let payments = payments().await;
    assert!(payments.refund("never-paid").await.unwrap().is_none());
    assert_eq!(
        payments.void("o-late").await.unwrap().unwrap().status,
        PaymentStatus::Voided
    );
    assert!(matches!(
        payments.authorize("o-late", "tok_visa", 100, "EUR").await,
        Err(PaymentError::Closed)
    ));
    assert_eq!(
        payments.provider_ledger("o-late").await.unwrap(),
        None,
        "the provider was never asked"
    );
}

/// A provider whose authorization answers only after the order's payment was voided: the void
/// found nothing held yet, and the hold comes after it.
#[derive(Debug, Clone)]
struct AnswersAfterAVoid {
    payments: Payments<SimulatedProvider>,
}

impl CardProvider for AnswersAfterAVoid {
    async fn authorize(
        &self,
        key: &str,
        card_token: &str,
        amount_cents: i64,
        currency: &str,
    ) -> Result<String, ProviderError> {
        self.payments.void(key).await.unwrap();
        self.payments
            .provider
            .authorize(key, card_token, amount_cents, currency)
            .await
    }

    async fn void(&self, key: &str) -> Result<(), ProviderError> {
        self.payments.provider.void(key).await
    }

    async fn refund(
        &self,
        key: &str,
        amount_cents: i64,
        currency: &str,
    ) -> Result<(), ProviderError> {
        self.payments
            .provider
            .refund(key, amount_cents, currency)
            .await
    }

    async fn ledger(&self, key: &str) -> Result<Option<LedgerEntry>, ProviderError> {
        self.payments.provider.ledger(key).await
    }
}

#[tokio::test]
async fn an_authorization_that_loses_to_a_void_releases_the_hold_it_got() {
    let simulated = payments().await;
    let payments = Payments {
        table: simulated.table.clone(),
        provider: AnswersAfterAVoid {
            payments: simulated,
        },
    };

    assert!(matches!(
        payments.authorize("o-1", "tok_visa", 700, "EUR").await,
        Err(PaymentError::Closed)
    ));
    assert_eq!(
        payments.table.get("o-1").await.unwrap().unwrap().status,
        PaymentStatus::Voided
    );
    assert_eq!(
        books(&ledger(&payments, "o-1").await),
        (700, 700, 0),
        "no money held for a voided payment"
    );
}

#[tokio::test]
async fn task_errors_carry_the_types_the_state_machine_matches() {
    let (payments, card_tokens, sealer) = with_card_tokens().await;
    let task = async |order_id: &str, token: &str| -> Task {
        authorize_task(order_id, &sealer.seal(order_id, token).await)
    };
    assert_eq!(
        tasks::run(
            &payments,
            &card_tokens,
            task("o-declined", "tok_declined").await
        )
        .await
        .unwrap_err()
        .error_type,
        "PaymentDeclined"
    );
    assert_eq!(
        tasks::run(
            &payments,
            &card_tokens,
            task("o-timeout", "tok_timeout").await
        )
        .await
        .unwrap_err()
        .error_type,
        "PaymentTimeout"
    );
    let ok = tasks::run(&payments, &card_tokens, task("o-visa", "tok_visa").await)
        .await
        .unwrap();
    assert_eq!(ok["payment"]["status"], "AUTHORIZED");

    // A task retried after its compensation voided the payment.
    payments.void("o-late").await.unwrap();
    assert_eq!(
        tasks::run(&payments, &card_tokens, task("o-late", "tok_visa").await)
            .await
            .unwrap_err()
            .error_type,
        "PaymentClosed"
    );
}

#[tokio::test]
async fn a_token_sealed_for_its_order_opens_and_is_authorized() {
    let (payments, card_tokens, sealer) = with_card_tokens().await;
    let ciphertext = sealer.seal("o-1", "tok_visa+a-suffix").await;
    let answer = tasks::run(&payments, &card_tokens, authorize_task("o-1", &ciphertext))
        .await
        .unwrap();
    assert_eq!(answer["payment"]["status"], "AUTHORIZED");
    assert_eq!(books(&ledger(&payments, "o-1").await), (100, 0, 0));
}

#[tokio::test]
async fn a_token_sealed_for_another_order_is_unreadable_and_never_reaches_the_provider() {
    let (payments, card_tokens, sealer) = with_card_tokens().await;
    let sealed_for_another = sealer.seal("o-other", "tok_visa").await;
    let mut altered = STANDARD
        .decode(sealer.seal("o-1", "tok_visa").await)
        .unwrap();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    for ciphertext in [
        sealed_for_another,
        STANDARD.encode(&altered),
        "not base64!".to_owned(),
    ] {
        let error = tasks::run(&payments, &card_tokens, authorize_task("o-1", &ciphertext))
            .await
            .unwrap_err();
        assert_eq!(error.error_type, "CardTokenUnreadable", "{ciphertext}");
    }
    assert_eq!(payments.table.get("o-1").await.unwrap(), None);
    assert_eq!(
        payments.provider_ledger("o-1").await.unwrap(),
        None,
        "the provider was never asked"
    );
}

#[tokio::test]
async fn a_kms_that_cannot_be_reached_is_a_retried_error_not_an_unreadable_token() {
    let (payments, _, sealer) = with_card_tokens().await;
    let unreachable = aws_sdk_kms::config::Builder::from(&sealer.config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let card_tokens = CardTokenOpener::new(
        aws_sdk_kms::Client::from_conf(unreachable),
        sealer.key_arn.clone(),
    );
    let ciphertext = sealer.seal("o-1", "tok_visa").await;
    let error = tasks::run(&payments, &card_tokens, authorize_task("o-1", &ciphertext))
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "PaymentsUnavailable");
}

#[tokio::test]
async fn a_test_token_with_a_suffix_behaves_as_its_name() {
    let payments = payments().await;
    let approved = payments
        .authorize("o-1", "tok_visa+run-1", 100, "EUR")
        .await
        .unwrap();
    assert_eq!(approved.status, PaymentStatus::Authorized);
    assert!(matches!(
        payments
            .authorize("o-2", "tok_declined+run-1", 100, "EUR")
            .await,
        Err(PaymentError::Declined)
    ));
    assert!(matches!(
        payments
            .authorize("o-3", "tok_visa_run-1", 100, "EUR")
            .await,
        Err(PaymentError::Declined)
    ));
}
