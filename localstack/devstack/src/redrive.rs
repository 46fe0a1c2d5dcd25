//! Sends what waits in the failure queues back to where it failed (`make redrive`, or
//! `devstack redrive` against a running stack). Each failure queue of the template has one
//! source, so it is known where its messages go:
//! - a rule's DLQ holds events the rule could not deliver: they go to the rule's target again
//!   (a function as an asynchronous invocation, a state machine as an execution);
//! - a function's on-failure destination holds Lambda's failure records: their
//!   `requestPayload` is the event, invoked asynchronously again;
//! - a stream consumer's DLQ holds records its handler parked (`{"record": ...}`) and Lambda's
//!   descriptions of records it gave up on (`DDBStreamBatchInfo`, read back from the stream
//!   while it keeps them, 24 hours): they are handed to the function as a batch again.
//!
//! A message is deleted only once its target took it, so a redrive that fails leaves it where it
//! was. Consumers are idempotent, so a redrive of something that meanwhile succeeded is harmless.

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::template::{EventTarget, FunctionEvent, Template, TemplateError};

/// One failure queue and where its messages go back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The queue's logical id.
    pub queue: String,
    pub target: Target,
    pub holds: Holds,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A function, by logical id.
    Function(String),
    /// A state machine, by logical id.
    StateMachine(String),
}

/// What the queue's messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// EventBridge events a rule could not deliver.
    UndeliveredEvents,
    /// Lambda's records of failed asynchronous invocations.
    FailedInvocations,
    /// Stream records parked by the handler, or described by Lambda.
    StreamRecords,
}

/// Every failure queue of the template with its source.
pub fn sources(template: &Template) -> Result<Vec<Source>, TemplateError> {
    let mut sources = Vec::new();
    let mut add = |queue: &Value, target: Target, holds: Holds| {
        if let Some(queue) = template.referenced(queue) {
            sources.push(Source {
                queue: queue.logical_id.clone(),
                target,
                holds,
            });
        }
    };
    for rule in template.rules()? {
        for target in &rule.targets {
            match target {
                EventTarget::Function {
                    function,
                    dead_letter: Some(queue),
                    ..
                } => add(
                    queue,
                    Target::Function(function.clone()),
                    Holds::UndeliveredEvents,
                ),
                EventTarget::StateMachine {
                    state_machine,
                    dead_letter: Some(queue),
                    ..
                } => add(
                    queue,
                    Target::StateMachine(state_machine.clone()),
                    Holds::UndeliveredEvents,
                ),
                _ => {}
            }
        }
    }
    for function in template.functions()? {
        let target = || Target::Function(function.logical_id.clone());
        if let Some(destination) = &function.async_invoke.on_failure {
            add(&destination.queue, target(), Holds::FailedInvocations);
        }
        for event in &function.events {
            if let FunctionEvent::Stream(source) = event
                && let Some(destination) = &source.on_failure
            {
                add(&destination.queue, target(), Holds::StreamRecords);
            }
        }
    }
    Ok(sources)
}

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("{queue}: {operation} failed")]
    Aws {
        queue: String,
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What one queue's redrive did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Messages their target took again (and deleted from the queue).
    pub sent: usize,
    /// Messages left in the queue: their target refused them again, or they could not be read.
    pub kept: usize,
}

/// Where a running stack is, and clients for it.
#[derive(Debug, Clone)]
pub struct Redriver {
    pub sqs: aws_sdk_sqs::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub http: reqwest::Client,
    /// The edge, whose Invoke API runs the functions.
    pub edge_url: String,
    pub stack_name: String,
}

impl Redriver {
    /// Sends every message of `source`'s queue back to its target.
    pub async fn redrive(&self, source: &Source) -> Result<Report, RedriveError> {
        let failed = |operation: &'static str| {
            let queue = source.queue.clone();
            move |error: Box<dyn std::error::Error + Send + Sync>| RedriveError::Aws {
                queue,
                operation,
                source: error,
            }
        };
        let queue_url = self
            .sqs
            .get_queue_url()
            .queue_name(self.physical(&source.queue))
            .send()
            .await
            .map_err(|e| failed("GetQueueUrl")(e.into()))?
            .queue_url
            .unwrap_or_default();
        let mut report = Report::default();
        let mut seen = std::collections::HashSet::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(10)
                // Messages kept stay invisible for the rest of this redrive.
                .visibility_timeout(60)
                .send()
                .await
                .map_err(|e| failed("ReceiveMessage")(e.into()))?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(report);
            }
            for message in messages {
                let id = message.message_id().unwrap_or_default().to_owned();
                if !seen.insert(id) {
                    continue;
                }
                let body: Value =
                    serde_json::from_str(message.body().unwrap_or_default()).unwrap_or(Value::Null);
                if self.send_back(source, &body).await {
                    report.sent += 1;
                    if let Some(receipt) = message.receipt_handle() {
                        self.sqs
                            .delete_message()
                            .queue_url(&queue_url)
                            .receipt_handle(receipt)
                            .send()
                            .await
                            .map_err(|e| failed("DeleteMessage")(e.into()))?;
                    }
                } else {
                    report.kept += 1;
                }
            }
        }
    }

    /// `true` when the target took the message again.
    async fn send_back(&self, source: &Source, body: &Value) -> bool {
        match (&source.target, source.holds) {
            (Target::Function(function), Holds::UndeliveredEvents) => {
                self.invoke(function, body, true).await
            }
            (Target::Function(function), Holds::FailedInvocations) => {
                self.invoke(function, &body["requestPayload"], true).await
            }
            (Target::Function(function), Holds::StreamRecords) => {
                let records = match body.get("record") {
                    Some(record) => vec![record.clone()],
                    None => self.described_records(body).await,
                };
                !records.is_empty()
                    && self
                        .invoke(function, &json!({ "Records": records }), false)
                        .await
            }
            (Target::StateMachine(machine), _) => {
                let arn = format!(
                    "arn:aws:states:{}:{}:stateMachine:{}",
                    crate::REGION,
                    crate::ACCOUNT,
                    self.physical(machine)
                );
                let name = body["id"]
                    .as_str()
                    .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
                match self
                    .sfn
                    .start_execution()
                    .state_machine_arn(arn)
                    .name(name)
                    .input(body.to_string())
                    .send()
                    .await
                {
                    Ok(_) => true,
                    Err(error) => error.as_service_error().is_some_and(
                        aws_sdk_sfn::operation::start_execution::StartExecutionError::is_execution_already_exists,
                    ),
                }
            }
        }
    }

    /// Invokes a function through the edge's Invoke API; asynchronously (`Event`) or waiting
    /// for a successful answer without reported batch item failures.
    async fn invoke(&self, function: &str, payload: &Value, asynchronous: bool) -> bool {
        if payload.is_null() {
            return false;
        }
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.edge_url,
            self.physical(function)
        );
        let invocation = if asynchronous {
            "Event"
        } else {
            "RequestResponse"
        };
        let Ok(response) = self
            .http
            .post(url)
            .header("x-amz-invocation-type", invocation)
            .body(Bytes::from(payload.to_string()))
            .send()
            .await
        else {
            return false;
        };
        if asynchronous {
            return response.status().as_u16() == 202;
        }
        if !response.status().is_success()
            || response.headers().contains_key("x-amz-function-error")
        {
            return false;
        }
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        answer["batchItemFailures"]
            .as_array()
            .is_none_or(Vec::is_empty)
    }

    /// The records a Lambda stream failure description names, read back from the stream.
    async fn described_records(&self, description: &Value) -> Vec<Value> {
        let info = &description["DDBStreamBatchInfo"];
        let (Some(stream), Some(shard), Some(start), Some(end)) = (
            info["streamArn"].as_str(),
            info["shardId"].as_str(),
            info["startSequenceNumber"].as_str(),
            info["endSequenceNumber"].as_str(),
        ) else {
            return Vec::new();
        };
        let Ok(iterator) = self
            .streams
            .get_shard_iterator()
            .stream_arn(stream)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(start)
            .send()
            .await
        else {
            return Vec::new();
        };
        let end: u128 = end.parse().unwrap_or(0);
        let mut records = Vec::new();
        let mut next = iterator.shard_iterator;
        while let Some(current) = next.take() {
            let Ok(page) = self
                .streams
                .get_records()
                .shard_iterator(current)
                .send()
                .await
            else {
                break;
            };
            let page_records = page.records.unwrap_or_default();
            if page_records.is_empty() {
                break;
            }
            for record in &page_records {
                let sequence: u128 = record
                    .dynamodb()
                    .and_then(|c| c.sequence_number())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u128::MAX);
                if sequence > end {
                    return records;
                }
                records.push(crate::sources::streams::lambda_record(record, stream));
            }
            next = page.next_shard_iterator;
        }
        records
    }

    /// devstack names unnamed resources `<stack>-<logical id>`, as CloudFormation does.
    fn physical(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.stack_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_queue_goes_back_to_its_one_source() {
        let template = Template::from_yaml(
            r"
Resources:
  RuleDLQ: {Type: AWS::SQS::Queue}
  Failed: {Type: AWS::SQS::Queue}
  Parked: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
    Properties:
      EventInvokeConfig:
        DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt Failed.Arn}}
      Events:
        Bus:
          Type: EventBridgeRule
          Properties: {Pattern: {source: [x]}, DeadLetterConfig: {Arn: !GetAtt RuleDLQ.Arn}}
        Changes:
          Type: DynamoDB
          Properties:
            Stream: arn
            StartingPosition: LATEST
            DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt Parked.Arn}}
",
        )
        .unwrap();
        let function = || Target::Function("Fn".into());
        assert_eq!(
            sources(&template).unwrap(),
            [
                Source {
                    queue: "RuleDLQ".into(),
                    target: function(),
                    holds: Holds::UndeliveredEvents
                },
                Source {
                    queue: "Failed".into(),
                    target: function(),
                    holds: Holds::FailedInvocations
                },
                Source {
                    queue: "Parked".into(),
                    target: function(),
                    holds: Holds::StreamRecords
                },
            ]
        );
    }
}
