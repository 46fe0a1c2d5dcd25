//! The metrics SQS and Step Functions publish on their own, read from the emulator: each
//! queue's depth, and each state machine's executions by outcome and duration. While the stack
//! is busy they are read every few seconds; at rest, once a minute, SQS's own cadence (a
//! message whose visibility timeout ends comes back without any call), and again as soon as a
//! call may have changed something ([`crate::activity`]).

use std::{collections::HashMap, time::Duration};

use aws_sdk_sqs::types::QueueAttributeName;

use super::{MetricKey, Monitoring};
use crate::{activity::Watcher, execution_logs::ExecutionLogs};

/// The shortest time between two reads, however busy the stack.
const EVERY: Duration = Duration::from_secs(5);
/// Then, unless a call may have changed something, up to a minute in all: SQS publishes its
/// metrics once a minute.
const AT_REST: Duration = Duration::from_secs(55);

async fn pause(activity: &mut Watcher) {
    tokio::time::sleep(EVERY).await;
    activity.wait(AT_REST).await;
}

/// A queue's depth (`AWS/SQS`, `ApproximateNumberOfMessagesVisible` and `...NotVisible`, per
/// `QueueName`), for each `(name, url)`.
pub async fn queues(
    sqs: aws_sdk_sqs::Client,
    queues: Vec<(String, String)>,
    monitoring: Monitoring,
    mut activity: Watcher,
) {
    loop {
        activity.mark_seen();
        for (name, url) in &queues {
            let Ok(output) = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
            else {
                continue;
            };
            let attributes = output.attributes.unwrap_or_default();
            for (attribute, metric) in [
                (
                    QueueAttributeName::ApproximateNumberOfMessages,
                    "ApproximateNumberOfMessagesVisible",
                ),
                (
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                    "ApproximateNumberOfMessagesNotVisible",
                ),
            ] {
                let count: f64 = attributes
                    .get(&attribute)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0);
                monitoring.put(
                    MetricKey::new("AWS/SQS", metric, &[("QueueName", name)]),
                    count,
                    "Count",
                );
            }
        }
        pause(&mut activity).await;
    }
}

/// Each execution of each state machine once started and once finished (`AWS/States`,
/// `ExecutionsStarted`, `ExecutionsSucceeded`/`Failed`/`TimedOut`/`Aborted`, `ExecutionTime`,
/// per `StateMachineArn`); an ended execution's history is then written to its machine's log
/// group ([`ExecutionLogs`]).
pub async fn executions(
    sfn: aws_sdk_sfn::Client,
    machines: Vec<String>,
    monitoring: Monitoring,
    mut activity: Watcher,
    logs: ExecutionLogs,
) {
    // Executions seen, and whether their end was recorded.
    let mut seen: HashMap<String, bool> = HashMap::new();
    loop {
        activity.mark_seen();
        for machine in &machines {
            let key =
                |name: &str| MetricKey::new("AWS/States", name, &[("StateMachineArn", machine)]);
            let mut pages = sfn
                .list_executions()
                .state_machine_arn(machine)
                .into_paginator()
                .send();
            while let Some(Ok(page)) = pages.next().await {
                for execution in page.executions {
                    let ended = execution.stop_date.is_some();
                    let finished_before = seen.get(&execution.execution_arn).copied();
                    if finished_before.is_none() {
                        monitoring.put(key("ExecutionsStarted"), 1.0, "Count");
                    }
                    if ended && finished_before != Some(true) {
                        let outcome = match execution.status.as_str() {
                            "SUCCEEDED" => "ExecutionsSucceeded",
                            "TIMED_OUT" => "ExecutionsTimedOut",
                            "ABORTED" => "ExecutionsAborted",
                            _ => "ExecutionsFailed",
                        };
                        monitoring.put(key(outcome), 1.0, "Count");
                        if let Some(stop) = execution.stop_date {
                            let millis =
                                (stop.as_secs_f64() - execution.start_date.as_secs_f64()) * 1000.0;
                            monitoring.put(key("ExecutionTime"), millis, "Milliseconds");
                        }
                        let (logs, machine) = (logs.clone(), machine.clone());
                        let execution_arn = execution.execution_arn.clone();
                        tokio::spawn(async move { logs.deliver(&machine, &execution_arn).await });
                    }
                    seen.insert(execution.execution_arn, ended);
                }
            }
        }
        pause(&mut activity).await;
    }
}
