//! CloudWatch on devstack, seen as an operator sees it on AWS: a message parked in a DLQ fires
//! the queue's alarm, and the alarm's notification reaches a subscription of the alarm topic;
//! after an order, the dashboards are drawn from metrics that the functions and devstack put.

#![allow(clippy::unwrap_used)]

mod orders_common;

use std::time::{Duration, Instant};

use orders_common::{order_when, paid_with, place, stocked_product};
use serde_json::Value;
use system_tests::system;

/// A new SQS queue subscribed to the SNS topic `topic_name` (raw delivery off, as an email or
/// an HTTPS endpoint would get it); returns the queue's URL.
async fn subscribe(topic_name: &str, queue_name: &str) -> String {
    let system = system();
    let sqs = aws_sdk_sqs::Client::new(&system.sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name(queue_name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!("arn:aws:sqs:{}:123456789012:{queue_name}", system.region);
    let topic_arn = format!("arn:aws:sns:{}:123456789012:{topic_name}", system.region);
    let subscribed = system
        .http()
        .post(system.edge())
        .header("authorization", devstack::emulator::scope_header("sns"))
        .form(&[
            ("Action", "Subscribe"),
            ("Version", "2010-03-31"),
            ("TopicArn", topic_arn.as_str()),
            ("Protocol", "sqs"),
            ("Endpoint", queue_arn.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        subscribed.status().is_success(),
        "{}",
        subscribed.text().await.unwrap()
    );
    url
}

/// Waits (up to `within`) for the notification that `alarm` entered `state`.
async fn notification(queue_url: &str, alarm: &str, state: &str, within: Duration) -> Value {
    let sqs = aws_sdk_sqs::Client::new(&system().sdk_config().await);
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let envelope: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap();
            let alarm_message: Value =
                serde_json::from_str(envelope["Message"].as_str().unwrap_or("{}")).unwrap();
            if alarm_message["AlarmName"] == alarm && alarm_message["NewStateValue"] == state {
                return alarm_message;
            }
        }
    }
    panic!("no {state} notification for {alarm} within {within:?}");
}

#[tokio::test]
async fn a_message_parked_in_a_dlq_fires_its_alarm_and_the_topic_delivers_the_notification() {
    let system = system();
    // The template names the topic after the stage (`shop-${Stage}-alarms`); the stack's
    // own resources are named after the stack.
    let inbox = subscribe("shop-local-alarms", "alarm-inbox").await;
    let alarm = format!("{}-CatalogPublisherDLQAlarm", system.stack_name);

    // What the catalog publisher parks when it cannot publish a change.
    let sqs = aws_sdk_sqs::Client::new(&system.sdk_config().await);
    let dlq = system.queue_url("CatalogPublisherDLQ").await;
    sqs.send_message()
        .queue_url(&dlq)
        .message_body(r#"{"parked": "a product change that could not be published"}"#)
        .send()
        .await
        .unwrap();

    let fired = notification(&inbox, &alarm, "ALARM", Duration::from_mins(1)).await;
    assert_eq!(
        fired["AlarmDescription"],
        "Catalog changes could not be published; see the DLQ."
    );
    assert!(
        fired["NewStateReason"]
            .as_str()
            .is_some_and(|reason| reason.contains("crossed the threshold")),
        "{fired}"
    );

    // Redriven (here: taken off the queue), the alarm clears and says so.
    sqs.purge_queue().queue_url(&dlq).send().await.unwrap();
    notification(&inbox, &alarm, "OK", Duration::from_mins(1)).await;
}

/// How many data points each metric widget of a dashboard page was drawn with, by title.
async fn widgets(dashboard: &str) -> Vec<(String, u64)> {
    let page = system()
        .http()
        .get(format!(
            "{}/_devstack/dashboards/{dashboard}",
            system().edge()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "{dashboard} is served");
    let html = page.text().await.unwrap();
    html.split(r#"<section class="widget metric" data-points=""#)
        .skip(1)
        .map(|widget| {
            let points = widget.split('"').next().unwrap().parse().unwrap();
            let title = widget
                .split("<h4>")
                .nth(1)
                .and_then(|t| t.split("</h4>").next())
                .unwrap_or_default()
                .to_owned();
            (title, points)
        })
        .collect()
}

#[tokio::test]
async fn after_an_order_the_saga_and_overview_dashboards_are_drawn_from_local_metrics() {
    let system = system();
    let (product, _) = stocked_product(1_250, 5).await;
    let placed = place(
        &system.customer_token,
        &paid_with(&[(&product, 1)], "tok_visa"),
        None,
    )
    .await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    order_when(&id, &system.customer_token, |o| {
        o["status"] == "CONFIRMED" || o["status"] == "SHIPPED"
    })
    .await;

    // Pollers read queues and executions every few seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let saga = widgets("shop-local-saga").await;
        let drawn = |title: &str| {
            saga.iter()
                .any(|(t, points)| t.starts_with(title) && *points > 0)
        };
        if drawn("Executions by outcome") || Instant::now() > deadline {
            assert!(
                drawn("Executions by outcome"),
                "saga executions drawn: {saga:?}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let overview = widgets("shop-local-overview").await;
    assert!(overview.len() > 5, "{overview:?}");
    for wanted in [
        "Traffic",
        "Latency at the gateway",
        "Orders placed per minute",
    ] {
        assert!(
            overview
                .iter()
                .any(|(title, points)| title.starts_with(wanted) && *points > 0),
            "an overview widget about {wanted} has data: {overview:?}"
        );
    }
    // Every widget of the orders service is drawn, except what one good order never produces
    // or devstack cannot measure.
    let never_after_one_good_order = [
        (
            "Bus events rejected by the inbox",
            "only a malformed or unknown event is rejected",
        ),
        (
            "Failure queues: age of the oldest message",
            "devstack cannot read a message's age without receiving it, which would count towards the DLQ redrive",
        ),
        (
            "Throttled reads and writes per table",
            "DynamoDB never throttles on devstack",
        ),
    ];
    let orders = widgets("shop-local-orders").await;
    assert!(orders.len() > 15, "{orders:?}");
    for (title, points) in &orders {
        let excused = never_after_one_good_order
            .iter()
            .any(|(prefix, _)| title.starts_with(prefix));
        assert!(
            *points > 0 || excused,
            "the orders dashboard draws \"{title}\" with no data after an order"
        );
    }
}

/// An event its consumers cannot read is rejected by each (and counted, `EventsRejected`), and
/// after Lambda's retries waits in each consumer's failure queue, where the failure-queue
/// alarms and the bus dashboard see it.
#[tokio::test]
async fn an_event_no_consumer_can_read_is_rejected_by_each_and_parked_in_its_failure_queue() {
    let system = system();
    let events = aws_sdk_eventbridge::Client::new(&system.sdk_config().await);
    let marker = uuid::Uuid::new_v4().to_string();
    let unreadable = serde_json::json!({"not_an_envelope": marker}).to_string();
    let bus = "shop-local";
    for (source, detail_type) in [
        ("shop.orders", "OrderCancelled"),
        ("shop.catalog", "ProductUpdated"),
    ] {
        let put = events
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(bus)
                    .source(source)
                    .detail_type(detail_type)
                    .detail(&unreadable)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(put.failed_entry_count, 0, "{put:?}");
    }
    for queue in [
        "InventoryEventsFailedEvents",
        "PaymentsEventsFailedEvents",
        "ShippingEventsFailedEvents",
        "OrdersCatalogSyncFailedEvents",
    ] {
        let record = system
            .wait_for_message(queue, |record| record.to_string().contains(&marker))
            .await;
        assert_eq!(
            record["requestContext"]["condition"], "RetriesExhausted",
            "{queue}: {record}"
        );
    }
}
