//! Step Functions' execution logs: a state machine with a `Logging` configuration has its
//! executions' history events written to its CloudWatch Logs group, as JSON lines
//! (`{"id", "type", "details", "previous_event_id", "event_timestamp", "execution_arn"}`),
//! filtered by `Level` (ALL, ERROR, FATAL, OFF) and without inputs and outputs unless
//! `IncludeExecutionData`. For an Express workflow this log is the only record of a run (AWS
//! keeps no Express history), so readers of a run (the saga suite, `make cost`) read the log,
//! whichever the workflow type.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html>
//!
//! moto writes no such log. devstack writes each execution's events once it has ended (from
//! moto's history, which moto keeps for both types), where AWS writes them as they happen: a
//! listed local difference.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::template::{Resolver, Template, TemplateError};

/// Which history events a state machine logs (`LoggingConfiguration.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    All,
    /// Failures of any kind: states' and the execution's.
    Error,
    /// The execution's own failure only.
    Fatal,
    Off,
}

impl Level {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ALL" => Self::All,
            "ERROR" => Self::Error,
            "FATAL" => Self::Fatal,
            "OFF" => Self::Off,
            _ => return None,
        })
    }

    fn logs(self, event_type: &str) -> bool {
        let failure = ["Failed", "TimedOut", "Aborted"]
            .iter()
            .any(|end| event_type.ends_with(end));
        match self {
            Self::All => true,
            Self::Error => failure,
            Self::Fatal => failure && event_type.starts_with("Execution"),
            Self::Off => false,
        }
    }
}

/// Where and what one state machine logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub log_group: String,
    pub level: Level,
    pub include_data: bool,
}

/// Each logging state machine's destination, by the machine's ARN.
pub fn destinations(
    template: &Template,
    resolver: &Resolver,
) -> Result<HashMap<String, Destination>, TemplateError> {
    let mut found = HashMap::new();
    for machine in template.state_machines()? {
        let Some(logging) = &machine.logging else {
            continue;
        };
        let at = format!("{}.Properties.Logging", machine.logical_id);
        let logging = resolver.resolve(logging, &at)?;
        let level = logging["Level"].as_str().unwrap_or("OFF");
        let level = Level::parse(level).ok_or_else(|| {
            TemplateError::unsupported(&at, format!("{level} is not a log level"))
        })?;
        let group_arn = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
            .as_str()
            .unwrap_or_default();
        let Some(log_group) = group_name(group_arn) else {
            if level == Level::Off {
                continue;
            }
            return Err(TemplateError::unsupported(
                at,
                "a log level other than OFF needs a CloudWatchLogsLogGroup destination",
            ));
        };
        let Some(machine_arn) = resolver.get(&machine.logical_id, crate::template::Attribute::Arn)
        else {
            continue;
        };
        found.insert(
            machine_arn.to_owned(),
            Destination {
                log_group,
                level,
                include_data: logging["IncludeExecutionData"].as_bool().unwrap_or(false),
            },
        );
    }
    Ok(found)
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>:*` → `<name>`.
fn group_name(arn: &str) -> Option<String> {
    let name = arn.split_once(":log-group:")?.1;
    Some(name.strip_suffix(":*").unwrap_or(name).to_owned())
}

/// The log lines of one execution's history (GetExecutionHistory's `events`, as JSON), each
/// with its time in epoch milliseconds.
pub fn log_lines(
    events: &[Value],
    execution_arn: &str,
    destination: &Destination,
) -> Vec<(i64, String)> {
    events
        .iter()
        .filter_map(|event| {
            let event_type = event["type"].as_str()?;
            if !destination.level.logs(event_type) {
                return None;
            }
            let mut details = event
                .as_object()?
                .iter()
                .find(|(name, _)| name.ends_with("EventDetails"))
                .and_then(|(_, details)| details.as_object().cloned())
                .unwrap_or_default();
            if !destination.include_data {
                strip_data(&mut details);
            }
            // The JSON protocol gives times as epoch seconds with a fraction.
            let seconds = event["timestamp"].as_f64().unwrap_or_default();
            let millis = format!("{:.0}", seconds * 1000.0);
            let line = json!({
                "id": event["id"].to_string(),
                "type": event_type,
                "details": details,
                "previous_event_id": event["previousEventId"].to_string(),
                "event_timestamp": millis,
                "execution_arn": execution_arn,
            });
            Some((millis.parse().ok()?, line.to_string()))
        })
        .collect()
}

/// Without `IncludeExecutionData`, inputs, outputs and task parameters are left out.
fn strip_data(details: &mut Map<String, Value>) {
    for field in ["input", "output", "parameters", "result"] {
        details.remove(field);
        details.remove(&format!("{field}Details"));
    }
}

/// Writes ended executions' logs to their machines' groups on the emulator.
#[derive(Debug, Clone)]
pub struct ExecutionLogs {
    logs: aws_sdk_cloudwatchlogs::Client,
    http: reqwest::Client,
    emulator: String,
    destinations: HashMap<String, Destination>,
}

/// One stream per state machine: readers find an execution's lines by its ARN, not by stream.
fn stream_name(machine_arn: &str) -> String {
    let machine = machine_arn.rsplit(':').next().unwrap_or(machine_arn);
    format!("states/{machine}/devstack")
}

impl ExecutionLogs {
    pub fn new(
        clients: &crate::provision::Clients,
        destinations: HashMap<String, Destination>,
    ) -> Self {
        Self {
            logs: clients.logs.clone(),
            http: clients.http.clone(),
            emulator: clients.emulator.clone(),
            destinations,
        }
    }

    /// Logs the ended execution `execution_arn` of `machine_arn`, if that machine logs.
    pub async fn deliver(&self, machine_arn: &str, execution_arn: &str) {
        let Some(destination) = self.destinations.get(machine_arn) else {
            return;
        };
        if destination.level == Level::Off {
            return;
        }
        let events = match self.history(execution_arn).await {
            Ok(events) => events,
            Err(why) => {
                tracing::warn!(%execution_arn, "execution log not written: {why}");
                return;
            }
        };
        let mut lines = log_lines(&events, execution_arn, destination);
        if lines.is_empty() {
            return;
        }
        lines.sort_by_key(|(at, _)| *at);
        let stream = stream_name(machine_arn);
        // Already there after the first execution: that refusal is expected.
        let _ = self
            .logs
            .create_log_stream()
            .log_group_name(&destination.log_group)
            .log_stream_name(&stream)
            .send()
            .await;
        let events = lines.into_iter().filter_map(|(at, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(at)
                .message(message)
                .build()
                .ok()
        });
        if let Err(error) = self
            .logs
            .put_log_events()
            .log_group_name(&destination.log_group)
            .log_stream_name(&stream)
            .set_log_events(Some(events.collect()))
            .send()
            .await
        {
            tracing::warn!(%execution_arn, "execution log not written: {error}");
        }
    }

    /// Every history event of the execution, as the JSON protocol gives them.
    async fn history(&self, execution_arn: &str) -> Result<Vec<Value>, String> {
        let mut events = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let mut request = json!({"executionArn": execution_arn, "maxResults": 1000});
            if let Some(token) = &next_token {
                request["nextToken"] = json!(token);
            }
            let page: Value = self
                .http
                .post(&self.emulator)
                .header("x-amz-target", "AWSStepFunctions.GetExecutionHistory")
                .header("content-type", "application/x-amz-json-1.0")
                .header("authorization", crate::emulator::scope_header("states"))
                .body(request.to_string())
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let Some(page_events) = page["events"].as_array() else {
                return Err(format!("GetExecutionHistory answered {page}"));
            };
            events.extend(page_events.iter().cloned());
            match page["nextToken"].as_str() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(events),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:000000000000:execution:shop-PlaceOrder:o-1";

    fn history() -> Vec<Value> {
        serde_json::from_value(json!([
            {"timestamp": 1_700_000_000.125, "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
             "executionStartedEventDetails": {"input": "{\"card\":\"sealed\"}", "inputDetails": {"truncated": false}, "roleArn": "r"}},
            {"timestamp": 1_700_000_000.2, "type": "TaskStateEntered", "id": 2, "previousEventId": 1,
             "stateEnteredEventDetails": {"name": "ReserveStock", "input": "{}"}},
            {"timestamp": 1_700_000_000.3, "type": "TaskFailed", "id": 3, "previousEventId": 2,
             "taskFailedEventDetails": {"error": "OutOfStock", "cause": "none left"}},
            {"timestamp": 1_700_000_000.4, "type": "ExecutionFailed", "id": 4, "previousEventId": 3,
             "executionFailedEventDetails": {"error": "OutOfStock"}}
        ]))
        .unwrap()
    }

    fn destination(level: Level, include_data: bool) -> Destination {
        Destination {
            log_group: "/aws/vendedlogs/states/shop".into(),
            level,
            include_data,
        }
    }

    fn types(lines: &[(i64, String)]) -> Vec<String> {
        lines
            .iter()
            .map(|(_, line)| {
                let line: Value = serde_json::from_str(line).unwrap();
                line["type"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn every_event_is_a_line_in_the_aws_shape_with_its_details_and_time() {
        let lines = log_lines(&history(), ARN, &destination(Level::All, true));
        assert_eq!(lines.len(), 4);
        let (at, line) = &lines[1];
        assert_eq!(*at, 1_700_000_000_200);
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            line,
            json!({
                "id": "2", "type": "TaskStateEntered",
                "details": {"name": "ReserveStock", "input": "{}"},
                "previous_event_id": "1", "event_timestamp": "1700000000200",
                "execution_arn": ARN
            })
        );
    }

    #[test]
    fn the_level_filters_events_and_data_is_left_out_unless_included() {
        let history = history();
        assert_eq!(
            types(&log_lines(&history, ARN, &destination(Level::Error, true))),
            ["TaskFailed", "ExecutionFailed"]
        );
        assert_eq!(
            types(&log_lines(&history, ARN, &destination(Level::Fatal, true))),
            ["ExecutionFailed"]
        );
        assert!(log_lines(&history, ARN, &destination(Level::Off, true)).is_empty());
        let without_data = log_lines(&history, ARN, &destination(Level::All, false));
        let started: Value = serde_json::from_str(&without_data[0].1).unwrap();
        assert_eq!(started["details"], json!({"roleArn": "r"}));
        let failed: Value = serde_json::from_str(&without_data[2].1).unwrap();
        assert_eq!(failed["details"]["cause"], "none left");
    }

    #[test]
    fn a_log_group_is_named_by_its_arn() {
        assert_eq!(
            group_name("arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/x:*"),
            Some("/aws/vendedlogs/states/x".to_owned())
        );
        assert_eq!(group_name("not-an-arn"), None);
    }
}
