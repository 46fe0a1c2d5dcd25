//! EventBridge rule → function or state machine. moto delivers rule targets only to SQS, so
//! each such target is fed through a shadow queue that devstack drains: a message is deleted
//! once the target took it (a function takes it as an asynchronous invocation, a state
//! machine by starting an execution); otherwise it comes back after a backoff, and after the
//! target's attempts SQS's redrive policy moves it to the rule's dead-letter queue. Without a
//! DLQ, or with one whose queue policy does not let EventBridge send to it, EventBridge drops
//! the event: devstack drops it too, with a `lost:` line and the `RuleLost` counter.

use std::time::Duration;

use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use bytes::Bytes;

use crate::{
    counters::Counter,
    faults::Fault,
    lambda::Lambda,
    monitoring::MetricKey,
    plan::{DeadLetter, DeliveryTarget},
    provision::Delivery,
    stack::Controls,
};

/// What deliveries need: the queues, and the targets they deliver to.
#[derive(Debug, Clone)]
pub struct Deliverer {
    pub sqs: aws_sdk_sqs::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub lambda: Lambda,
    pub controls: Controls,
}

/// Runs one delivery until the task is aborted.
pub async fn run(delivery: Delivery, deliverer: Deliverer) {
    let Deliverer {
        sqs,
        sfn,
        lambda,
        controls,
    } = &deliverer;
    let mut activity = controls.activity.watch();
    loop {
        activity.mark_seen();
        let received = sqs
            .receive_message()
            .queue_url(&delivery.queue_url)
            .max_number_of_messages(10)
            // SQS's longest poll: an idle rule costs moto one request per 20 seconds, and a
            // message still comes back the moment it arrives.
            .wait_time_seconds(20)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await;
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(rule = %delivery.rule, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "cannot read the shadow queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            if !retries_pending(sqs, &delivery.queue_url).await {
                // Only a call passing the edge (PutEvents, a replay) can bring an event now.
                activity.wait(RULE_AT_REST).await;
            }
            continue;
        }
        let work = messages
            .into_iter()
            .map(|message| deliver(&delivery, sqs, sfn, lambda, controls, message));
        futures::future::join_all(work).await;
        controls.activity.touch();
    }
}

/// The longest an idle rule waits without a sign of activity before it reads again.
const RULE_AT_REST: Duration = Duration::from_mins(5);

/// Whether failed deliveries wait out their backoff (invisible messages), which come back
/// without any call.
async fn retries_pending(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> bool {
    let attribute = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible;
    sqs.get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(attribute.clone())
        .send()
        .await
        .map_or(true, |output| {
            output
                .attributes()
                .and_then(|a| a.get(&attribute))
                .is_none_or(|n| n != "0")
        })
}

async fn deliver(
    delivery: &Delivery,
    sqs: &aws_sdk_sqs::Client,
    sfn: &aws_sdk_sfn::Client,
    lambda: &Lambda,
    controls: &Controls,
    message: Message,
) {
    let body = message.body().unwrap_or_default().to_owned();
    let target_name = match &delivery.target {
        DeliveryTarget::Function(function) | DeliveryTarget::StateMachine(function) => function,
    };
    let fault = controls
        .faults
        .fire(target_name, body.as_bytes(), |f| !f.is_invocation_fault());
    if let Some(Fault::Delay { ms }) = fault {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    // An injected duplicate: EventBridge delivers at least once, and sometimes twice.
    let copies = if fault == Some(Fault::Duplicate) {
        2
    } else {
        1
    };
    let mut delivered = false;
    for _ in 0..copies {
        delivered = deliver_once(delivery, sfn, lambda, &body).await;
    }
    let receives: i32 = message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let exhausted = u32::try_from(receives).is_ok_and(|n| n >= delivery.max_attempts);
    record_metrics(delivery, controls, receives == 1, delivered, exhausted);
    let Some(receipt) = message.receipt_handle() else {
        return;
    };
    if delivered {
        let _ = sqs
            .delete_message()
            .queue_url(&delivery.queue_url)
            .receipt_handle(receipt)
            .send()
            .await;
    } else {
        if exhausted && !matches!(delivery.dead_letter, DeadLetter::Queue(_)) {
            let why = match &delivery.dead_letter {
                DeadLetter::Refused { why, .. } => why.as_str(),
                _ => "the rule target has no dead-letter queue",
            };
            controls.counters.add(Counter::RuleLost, &delivery.rule);
            tracing::error!(rule = %delivery.rule, attempts = receives, %why, event = %body, "lost: the event could not be delivered and EventBridge drops it");
            let _ = sqs
                .delete_message()
                .queue_url(&delivery.queue_url)
                .receipt_handle(receipt)
                .send()
                .await;
            return;
        }
        let backoff = 2_i32.saturating_pow(u32::try_from(receives.clamp(0, 5)).unwrap_or(0));
        let _ = sqs
            .change_message_visibility()
            .queue_url(&delivery.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(backoff)
            .send()
            .await;
    }
}

/// EventBridge's metrics of a rule (`AWS/Events`, per `EventBusName` and `RuleName`): an event
/// matched once; an invocation counted when it succeeds or fails for good (retries are not
/// invocations); a failed one then goes to the DLQ or, without a usable one, nowhere.
fn record_metrics(
    delivery: &Delivery,
    controls: &Controls,
    first_receive: bool,
    delivered: bool,
    exhausted: bool,
) {
    let key = |name: &str| {
        MetricKey::new(
            "AWS/Events",
            name,
            &[
                ("EventBusName", &delivery.bus),
                ("RuleName", &delivery.rule_name),
            ],
        )
    };
    let put = |name: &str| controls.monitoring.put(key(name), 1.0, "Count");
    if first_receive {
        put("MatchedEvents");
    }
    if delivered || exhausted {
        put("Invocations");
    }
    if !delivered && exhausted {
        put("FailedInvocations");
        put(match delivery.dead_letter {
            DeadLetter::Queue(_) => "InvocationsSentToDlq",
            _ => "InvocationsFailedToBeSentToDlq",
        });
    }
}

/// Hands one event to the rule's target; `true` when the target took it.
async fn deliver_once(
    delivery: &Delivery,
    sfn: &aws_sdk_sfn::Client,
    lambda: &Lambda,
    body: &str,
) -> bool {
    match &delivery.target {
        // EventBridge invokes Lambda asynchronously: the delivery is done once Lambda has
        // queued the event. A failing function is Lambda's business from there (its retries,
        // then its on-failure destination, or the event is lost); the rule's DLQ only ever
        // sees events Lambda would not accept.
        DeliveryTarget::Function(function) => {
            let accepted = lambda.invoke_event(function, Bytes::from(body.to_owned()));
            if !accepted {
                tracing::warn!(rule = %delivery.rule, %function, "the rule's target function does not exist; the event will be retried");
            }
            accepted
        }
        DeliveryTarget::StateMachine(arn) => {
            // EventBridge names executions itself; the event id keeps a redelivery from
            // starting a second one.
            let event_id = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|event| event["id"].as_str().map(str::to_owned))
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let result = sfn
                .start_execution()
                .state_machine_arn(arn)
                .name(event_id)
                .input(body)
                .send()
                .await;
            match result {
                Ok(_) => true,
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(StartExecutionError::is_execution_already_exists) =>
                {
                    true
                }
                Err(error) => {
                    tracing::warn!(rule = %delivery.rule, error = %aws_sdk_sfn::error::DisplayErrorContext(&error), "cannot start the execution; the event will be retried");
                    false
                }
            }
        }
    }
}
