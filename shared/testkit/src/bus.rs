//! A queue subscribed to an EventBridge bus, to see what really arrives on it.

use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

/// A rule on a bus whose target is a fresh SQS queue.
#[derive(Debug)]
pub struct Subscription {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl Subscription {
    /// Subscribes a new queue to the events of `bus` that match `pattern`.
    pub async fn create(
        events: &aws_sdk_eventbridge::Client,
        sqs: &aws_sdk_sqs::Client,
        bus: &str,
        pattern: &Value,
    ) -> Self {
        let name = crate::unique_name("subscriber");
        let queue_url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
            .expect("queue arn");
        events
            .put_rule()
            .name(&name)
            .event_bus_name(bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .expect("put rule");
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(bus)
            .targets(
                Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("put targets");
        Self {
            sqs: sqs.clone(),
            queue_url,
        }
    }

    /// Receives until `count` events have arrived or `timeout` passes; returns what came, as
    /// the EventBridge events (with `source`, `detail-type` and `detail`).
    pub async fn receive(&self, count: usize, timeout: Duration) -> Vec<Value> {
        let started = Instant::now();
        let mut received = Vec::new();
        while received.len() < count && started.elapsed() < timeout {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive message");
            for message in output.messages() {
                let body = message.body().unwrap_or_default();
                received.push(serde_json::from_str(body).expect("an EventBridge event as JSON"));
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .set_receipt_handle(message.receipt_handle().map(str::to_owned))
                    .send()
                    .await
                    .expect("delete message");
            }
        }
        received
    }
}
