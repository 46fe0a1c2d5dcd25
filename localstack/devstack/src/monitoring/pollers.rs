//! The metrics SQS and Step Functions publish on their own, read from the emulator on a timer:
//! each queue's depth, and each state machine's executions by outcome and duration. SQS
//! publishes once a minute; devstack reads every few seconds (a compromise with moto's single
//! process, which every read costs).

use std::{collections::HashMap, time::Duration};

use aws_sdk_sqs::types::QueueAttributeName;

use super::{MetricKey, Monitoring};

const EVERY: Duration = Duration::from_secs(5);

/// A queue's depth (`AWS/SQS`, `ApproximateNumberOfMessagesVisible` and `...NotVisible`, per
/// `QueueName`), for each `(name, url)`.
pub async fn queues(
    sqs: aws_sdk_sqs::Client,
    queues: Vec<(String, String)>,
    monitoring: Monitoring,
) {
    loop {
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
        tokio::time::sleep(EVERY).await;
    }
}

/// Each execution of each state machine once started and once finished (`AWS/States`,
/// `ExecutionsStarted`, `ExecutionsSucceeded`/`Failed`/`TimedOut`/`Aborted`, `ExecutionTime`,
/// per `StateMachineArn`).
pub async fn executions(sfn: aws_sdk_sfn::Client, machines: Vec<String>, monitoring: Monitoring) {
    // Executions seen, and whether their end was recorded.
    let mut seen: HashMap<String, bool> = HashMap::new();
    loop {
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
                    }
                    seen.insert(execution.execution_arn, ended);
                }
            }
        }
        tokio::time::sleep(EVERY).await;
    }
}
