//! The chaos suite: orders placed, confirmed, shipped and cancelled while devstack injects the
//! faults AWS has in store (a function failing a few times, a process killed after its work,
//! an answer lost to a timeout, deliveries duplicated or delayed), and the shop's invariants
//! checked afterwards from tables and APIs, never from logs:
//! - every order reaches a terminal state (SHIPPED, REJECTED, or CANCELLED and complete);
//! - stock is conserved: what is available is the initial stock less what live orders hold;
//! - money is conserved against the card provider's own books: what it holds
//!   (authorized − voided − refunded) equals the totals of the shipped orders, a shipped order
//!   was held once, a cancelled one refunded in full, a rejected one's hold voided;
//! - each change had its effect once, however often it was delivered: one event of each kind in
//!   the order's history, one shipment;
//! - the read model equals a replay of the event store (the rebuild function's verify);
//! - the scenario's failure queues hold nothing of it unless it parks on purpose, and then the
//!   redrive completes the order.
//!
//! Each scenario has its own customer and product, and scopes its faults to them (devstack's
//! fault markers), so scenarios run side by side; each proves its fault fired.

#![allow(clippy::unwrap_used)]

mod orders_common;

use std::time::{Duration, Instant};

use base64::Engine;
use orders_common::{another_customer, call, get, paid_with, place, stocked_product};
use serde_json::{Value, json};
use system_tests::system;

const INITIAL_STOCK: i64 = 10;

/// One scenario's customer, product and faults.
struct Scenario {
    token: String,
    customer_id: String,
    product: String,
    sku: String,
    faults: Vec<String>,
    orders: Vec<String>,
}

impl Scenario {
    async fn new() -> Self {
        let token = another_customer().await;
        let claims = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .unwrap(),
        )
        .unwrap();
        let (product, sku) = stocked_product(1250, INITIAL_STOCK).await;
        Self {
            customer_id: claims["sub"].as_str().unwrap().to_owned(),
            token,
            product,
            sku,
            faults: Vec::new(),
            orders: Vec::new(),
        }
    }

    /// Arms a fault on `function` for this scenario's payloads: `marker` is its SKU (orders
    /// being placed, reservations) or its customer id (every later order event).
    async fn fault(&mut self, function: &str, marker: &str, fault: Value, times: u32) {
        let id = system().arm_fault(function, marker, fault, times).await;
        self.faults.push(id);
    }

    async fn place(&mut self, quantity: u32, card: &str) -> String {
        let placed = place(
            &self.token,
            &paid_with(&[(&self.product, quantity)], card),
            None,
        )
        .await;
        assert_eq!(placed.status, 202, "{}", placed.body);
        let id = placed.body["order_id"].as_str().unwrap().to_owned();
        self.orders.push(id.clone());
        id
    }

    /// The order once it satisfies `ready`, read from its event history (the source of truth,
    /// not the eventually consistent view).
    async fn events_when(&self, id: &str, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let reply = get(&format!("/orders/{id}/events"), &self.token).await;
            let types: Vec<String> = reply
                .body
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["type"].as_str().map(str::to_owned))
                .collect();
            if ready(&types) {
                return types;
            }
            assert!(Instant::now() < deadline, "order {id} stuck at {types:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn until_terminal(&self, id: &str) -> Vec<String> {
        self.events_when(id, |types| {
            types.iter().any(|t| {
                t == "OrderShipped" || t == "OrderRejected" || t == "OrderCancellationCompleted"
            })
        })
        .await
    }

    async fn cancel(&self, id: &str) {
        let reply = call(
            reqwest::Method::POST,
            &format!("/orders/{id}/cancel"),
            &self.token,
            None,
            None,
        )
        .await;
        assert_eq!(reply.status, 202, "{}", reply.body);
    }

    /// Every fault the scenario armed fired at least once.
    async fn assert_faults_fired(&self) {
        for fault in &self.faults {
            assert!(
                system().counter("FaultFired", fault).await > 0,
                "fault {fault} never fired: the scenario proved nothing"
            );
        }
    }

    /// The invariants, once every order is terminal.
    async fn assert_invariants(&self) {
        let mut histories = Vec::new();
        for id in &self.orders {
            histories.push(self.until_terminal(id).await);
        }
        self.assert_faults_fired().await;
        let mut held = 0;
        let (mut provider_holds, mut shipped_totals) = (0, 0);
        for (id, history) in self.orders.iter().zip(histories) {
            for once in [
                "OrderPlaced",
                "OrderConfirmed",
                "OrderRejected",
                "OrderShipped",
                "OrderCancelled",
                "OrderCancellationCompleted",
            ] {
                let count = history.iter().filter(|t| *t == once).count();
                assert!(count <= 1, "{id}: {once} {count} times in {history:?}");
            }
            let view = self.view_matching_history(id, &history).await;
            let quantity = view["items"][0]["quantity"].as_i64().unwrap();
            let payment = get(&format!("/payments/{id}"), &system().admin_token)
                .await
                .body;
            let books = &payment["provider"];
            let cents = |field: &str| books[field].as_i64().unwrap_or_default();
            let holds = cents("authorized_cents") - cents("voided_cents") - cents("refunded_cents");
            provider_holds += holds;
            match view["status"].as_str().unwrap() {
                "SHIPPED" => {
                    held += quantity;
                    shipped_totals += view["total_cents"].as_i64().unwrap();
                    assert_eq!(payment["status"], "AUTHORIZED", "{id}: {payment}");
                    assert_eq!(
                        holds,
                        view["total_cents"].as_i64().unwrap(),
                        "{id} held once: {payment}"
                    );
                    let shipment = get(&format!("/shipments/{id}"), &system().admin_token).await;
                    assert_eq!(shipment.status, 200, "{id}: {}", shipment.body);
                }
                "CANCELLED" => {
                    assert_eq!(view["cancellation_complete"], true, "{id}");
                    assert_eq!(payment["status"], "REFUNDED", "{id}: {payment}");
                    assert_eq!(holds, 0, "{id} refunded in full: {payment}");
                }
                "REJECTED" => {
                    assert_ne!(payment["status"], "AUTHORIZED", "{id}: {payment}");
                    assert_eq!(holds, 0, "{id}'s hold voided: {payment}");
                }
                other => panic!("{id} ended {other}"),
            }
        }
        assert_eq!(provider_holds, shipped_totals, "money held by the provider");
        assert_eq!(
            orders_common::available(&self.sku).await,
            INITIAL_STOCK - held,
            "stock of {} is not conserved",
            self.sku
        );
        self.assert_read_model_replays().await;
        self.assert_failure_queues_hold_nothing_of_it().await;
    }

    /// The view once it reflects the whole history (it follows the events).
    async fn view_matching_history(&self, id: &str, history: &[String]) -> Value {
        let expected = if history.iter().any(|t| t == "OrderShipped") {
            "SHIPPED"
        } else if history.iter().any(|t| t == "OrderRejected") {
            "REJECTED"
        } else {
            "CANCELLED"
        };
        orders_common::order_when(id, &self.token, |order| {
            order["status"] == expected
                && (expected != "CANCELLED" || order["cancellation_complete"] == true)
        })
        .await
    }

    async fn assert_read_model_replays(&self) {
        let verified = system()
            .invoke("OrdersRebuildFunction", &json!({"mode": "verify"}))
            .await
            .unwrap();
        let ours: Vec<&Value> = verified["differences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| self.orders.iter().any(|id| d.to_string().contains(id)))
            .collect();
        assert!(
            ours.is_empty(),
            "the read model differs from a replay: {ours:?}"
        );
    }

    async fn assert_failure_queues_hold_nothing_of_it(&self) {
        let parked = parked_messages_mentioning(&[&self.customer_id, &self.sku]).await;
        assert!(parked.is_empty(), "parked: {parked:?}");
    }
}

/// Messages in any failure queue of the template that mention one of `markers`, looked at
/// without hiding them from anyone else.
async fn parked_messages_mentioning(markers: &[&str]) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(&system().sdk_config().await);
    let template =
        devstack::template::Template::load(
            &[system_tests::workspace().join("infra/template.yaml")],
        )
        .unwrap();
    let mut found = Vec::new();
    for source in devstack::redrive::sources(&template).unwrap() {
        let url = system().queue_url(&source.queue).await;
        let peeked = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for message in peeked.messages() {
            let body = message.body().unwrap_or_default();
            if markers.iter().any(|m| body.contains(m)) {
                found.push(format!("{}: {body}", source.queue));
            }
        }
    }
    found
}

fn fail() -> Value {
    json!({"type": "fail"})
}

fn crash_after_work() -> Value {
    json!({"type": "crash_after_work"})
}

fn timeout_after_work() -> Value {
    json!({"type": "timeout_after_work"})
}

fn duplicate() -> Value {
    json!({"type": "duplicate"})
}

fn delay(ms: u64) -> Value {
    json!({"type": "delay", "ms": ms})
}

// ---------------------------------------------------------------- placing an order

#[tokio::test]
async fn the_order_publisher_failing_twice_still_starts_one_saga() {
    let mut s = Scenario::new().await;
    let sku = s.sku.clone();
    s.fault("OrdersPublisherFunction", &sku, fail(), 2).await;
    s.place(2, "tok_visa").await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn the_order_stream_delivered_twice_projects_and_publishes_once() {
    let mut s = Scenario::new().await;
    let customer = s.customer_id.clone();
    s.fault("OrdersProjectorFunction", &customer, duplicate(), 3)
        .await;
    s.fault("OrdersPublisherFunction", &customer, duplicate(), 3)
        .await;
    s.place(1, "tok_visa").await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn the_projector_killed_after_writing_a_view_leaves_it_equal_to_a_replay() {
    let mut s = Scenario::new().await;
    let customer = s.customer_id.clone();
    s.fault("OrdersProjectorFunction", &customer, crash_after_work(), 2)
        .await;
    s.place(3, "tok_visa").await;
    s.assert_invariants().await;
}

// ---------------------------------------------------------------- the saga

#[tokio::test]
async fn order_placed_delivered_twice_runs_one_saga() {
    let mut s = Scenario::new().await;
    let sku = s.sku.clone();
    s.fault("OrdersSagaStarterFunction", &sku, duplicate(), 1)
        .await;
    s.place(2, "tok_visa").await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn a_saga_starter_that_keeps_failing_parks_the_order_and_the_redrive_completes_it() {
    let mut s = Scenario::new().await;
    let sku = s.sku.clone();
    s.fault("OrdersSagaStarterFunction", &sku, fail(), 3).await;
    let id = s.place(1, "tok_visa").await;
    // Lambda's three attempts fail: OrderPlaced waits in the starter's on-failure queue.
    let deadline = Instant::now() + Duration::from_secs(40);
    while parked_messages_mentioning(&[&sku]).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the OrderPlaced event was never parked"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let types = s.events_when(&id, |_| true).await;
    assert_eq!(types, ["OrderPlaced"], "nothing happens until the redrive");
    let report = system().redrive("OrdersSagaStarterFailedEvents").await;
    assert!(report.sent >= 1, "{report:?}");
    s.assert_invariants().await;
}

#[tokio::test]
async fn a_reservation_whose_answer_is_lost_is_retried_and_reserves_once() {
    let mut s = Scenario::new().await;
    let sku = s.sku.clone();
    s.fault("InventoryTasksFunction", &sku, crash_after_work(), 1)
        .await;
    s.place(4, "tok_visa").await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn an_authorization_that_times_out_after_the_hold_is_retried_without_a_second_charge() {
    let mut s = Scenario::new().await;
    let id = s.place(1, "tok_visa").await;
    s.fault("PaymentsTasksFunction", &id, timeout_after_work(), 1)
        .await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn a_confirmation_killed_after_appending_ends_confirmed_not_compensated() {
    let mut s = Scenario::new().await;
    let id = s.place(2, "tok_visa").await;
    s.fault("OrdersTasksFunction", &id, crash_after_work(), 1)
        .await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn concurrent_orders_for_the_last_units_with_lost_reservation_answers_never_oversell() {
    let mut s = Scenario::new().await;
    let sku = s.sku.clone();
    s.fault("InventoryTasksFunction", &sku, timeout_after_work(), 2)
        .await;
    s.fault("InventoryTasksFunction", &sku, crash_after_work(), 2)
        .await;
    for _ in 0..4 {
        s.place(4, "tok_visa").await;
    }
    s.assert_invariants().await;
    let shipped = INITIAL_STOCK - orders_common::available(&s.sku).await;
    assert!(shipped <= INITIAL_STOCK && shipped % 4 == 0, "{shipped}");
}

// ---------------------------------------------------------------- shipping

#[tokio::test]
async fn shipping_failing_twice_on_order_confirmed_still_ships() {
    let mut s = Scenario::new().await;
    let customer = s.customer_id.clone();
    s.fault("ShippingEventsFunction", &customer, fail(), 2)
        .await;
    s.place(1, "tok_visa").await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn order_confirmed_and_shipment_scheduled_delivered_twice_ship_once() {
    let mut s = Scenario::new().await;
    let customer = s.customer_id.clone();
    s.fault("ShippingEventsFunction", &customer, duplicate(), 1)
        .await;
    s.fault("OrdersChoreographyFunction", &customer, duplicate(), 1)
        .await;
    s.place(2, "tok_visa").await;
    s.assert_invariants().await;
}

// ---------------------------------------------------------------- cancelling

/// Places an order and holds its shipment (a delayed OrderConfirmed) so it can be cancelled
/// while confirmed.
async fn confirmed_and_held(s: &mut Scenario) -> String {
    let customer = s.customer_id.clone();
    s.fault("ShippingEventsFunction", &customer, delay(4000), 1)
        .await;
    let id = s.place(3, "tok_visa").await;
    s.events_when(&id, |types| types.iter().any(|t| t == "OrderConfirmed"))
        .await;
    id
}

#[tokio::test]
async fn a_cancellation_with_inventory_failing_twice_gives_everything_back() {
    let mut s = Scenario::new().await;
    let id = confirmed_and_held(&mut s).await;
    s.fault("InventoryEventsFunction", &id, fail(), 2).await;
    s.cancel(&id).await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn order_cancelled_delivered_twice_refunds_and_releases_once() {
    let mut s = Scenario::new().await;
    let id = confirmed_and_held(&mut s).await;
    s.fault("PaymentsEventsFunction", &id, duplicate(), 1).await;
    s.fault("InventoryEventsFunction", &id, duplicate(), 1)
        .await;
    s.cancel(&id).await;
    s.assert_invariants().await;
}

#[tokio::test]
async fn cancellation_answers_arriving_late_and_out_of_order_still_complete() {
    let mut s = Scenario::new().await;
    let id = confirmed_and_held(&mut s).await;
    s.fault("OrdersChoreographyFunction", &id, delay(2500), 1)
        .await;
    s.fault("PaymentsEventsFunction", &id, crash_after_work(), 1)
        .await;
    s.cancel(&id).await;
    s.assert_invariants().await;
}

// ---------------------------------------------------------------- replaying the archive

/// The bus archive replays every event it kept, to every rule, under new EventBridge ids: each
/// consumer must recognise what it already did by the envelope's event id.
#[tokio::test]
async fn replaying_the_archive_changes_nothing() {
    let mut s = Scenario::new().await;
    let id = s.place(2, "tok_visa").await;
    s.until_terminal(&id).await;

    let events = aws_sdk_eventbridge::Client::new(&system().sdk_config().await);
    let archives = events.list_archives().send().await.unwrap();
    let archive = archives
        .archives()
        .iter()
        .find(|a| {
            a.archive_name()
                .is_some_and(|n| n.starts_with(&system().stack_name))
        })
        .expect("the stack's archive");
    let described = events
        .describe_archive()
        .archive_name(archive.archive_name().unwrap())
        .send()
        .await
        .unwrap();
    let replay = format!("chaos-{}", uuid::Uuid::new_v4().simple());
    events
        .start_replay()
        .replay_name(&replay)
        .event_source_arn(described.archive_arn().unwrap())
        .event_start_time(aws_sdk_eventbridge::primitives::DateTime::from_secs(0))
        .event_end_time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
            4_102_444_800,
        ))
        .destination(
            aws_sdk_eventbridge::types::ReplayDestination::builder()
                .arn(described.event_source_arn().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // The fault fired: this order's events reached a subscriber again, as a replay.
    system()
        .wait_for_recorded_event(|event| {
            event["replay-name"] == replay.as_str()
                && event["detail"]["data"]["order_id"] == id.as_str()
        })
        .await;
    s.assert_invariants().await;
}
