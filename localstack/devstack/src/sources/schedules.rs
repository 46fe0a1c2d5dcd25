//! EventBridge scheduled rules → function (SAM's `Schedule` events). moto keeps rules but never
//! fires a schedule, so devstack runs each one itself: every period, it invokes the function
//! asynchronously with EventBridge's Scheduled Event, as EventBridge does, so a failed run is
//! retried and then parked or lost by the function's `EventInvokeConfig` like any event.
//!
//! Periods are real time: a schedule is the behaviour under test, not one of AWS's waits, so
//! `--time-scale` does not shorten it. The first run comes [`FIRST_RUN_AFTER`] start-up rather
//! than a whole period later, so a one-minute canary is seen working at once. Only `rate(...)`
//! expressions run; a `cron(...)` one stops start-up instead of running at the wrong times.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use time::{OffsetDateTime, macros::format_description};
use tokio::time::{Instant, MissedTickBehavior};

use crate::{counters::Counter, lambda::Lambda, stack::Controls};

/// How long after start-up every schedule fires for the first time.
pub const FIRST_RUN_AFTER: Duration = Duration::from_secs(5);

/// A scheduled rule as devstack runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The rule's logical id (`<function><event>`), the scope of its `ScheduledRun` counter.
    pub rule: String,
    /// The rule's ARN, which the event names in `resources`.
    pub rule_arn: String,
    /// The function, by logical id.
    pub function: String,
    pub period: Duration,
}

/// A schedule expression devstack does not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "{0}: devstack runs rate(...) schedules only, and would rather not start than run a cron schedule at the wrong times"
    )]
    Cron(String),
    #[error("{expression} is not a schedule expression EventBridge accepts: {why}")]
    Invalid {
        expression: String,
        why: &'static str,
    },
}

/// The period of a `rate(value unit)` expression, refused where EventBridge refuses it: the
/// value is a positive whole number, the unit `minute`, `hour` or `day`, singular for a value
/// of 1 and plural for more (`rate(1 hours)` and `rate(5 hour)` are invalid).
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html>
pub fn parse_rate(expression: &str) -> Result<Duration, ScheduleError> {
    let invalid = |why| ScheduleError::Invalid {
        expression: expression.to_owned(),
        why,
    };
    if expression.starts_with("cron(") {
        return Err(ScheduleError::Cron(expression.to_owned()));
    }
    let inner = expression
        .strip_prefix("rate(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| invalid("it is neither rate(...) nor cron(...)"))?;
    let (value, unit) = inner
        .split_once(' ')
        .ok_or_else(|| invalid("a rate is a value and a unit: rate(5 minutes)"))?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("the value must be a positive whole number"));
    }
    let value: u64 = value
        .parse()
        .map_err(|_| invalid("the value is too large"))?;
    if value == 0 {
        return Err(invalid("the value must be a positive whole number"));
    }
    let (seconds, singular) = match unit {
        "minute" => (60, true),
        "minutes" => (60, false),
        "hour" => (3600, true),
        "hours" => (3600, false),
        "day" => (86_400, true),
        "days" => (86_400, false),
        _ => return Err(invalid("the unit must be minute(s), hour(s) or day(s)")),
    };
    if singular != (value == 1) {
        return Err(invalid(
            "the unit is singular for a value of 1 and plural otherwise",
        ));
    }
    value
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| invalid("the value is too large"))
}

/// The event EventBridge sends a scheduled rule's target.
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html>
pub fn scheduled_event(rule_arn: &str, at: OffsetDateTime) -> Value {
    let time = at
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default();
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": crate::ACCOUNT,
        "time": time,
        "region": crate::REGION,
        "resources": [rule_arn],
        "detail": {},
    })
}

/// Runs one schedule until the task is aborted. A run that is missed (the process was
/// suspended) is skipped, not caught up: EventBridge does not fire a schedule twice to make up.
pub async fn run(schedule: Schedule, lambda: Lambda, controls: Controls) {
    let mut ticks = tokio::time::interval_at(Instant::now() + FIRST_RUN_AFTER, schedule.period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let event = scheduled_event(&schedule.rule_arn, OffsetDateTime::now_utc());
        if lambda.invoke_event(&schedule.function, Bytes::from(event.to_string())) {
            controls.counters.add(Counter::ScheduledRun, &schedule.rule);
            tracing::debug!(rule = %schedule.rule, function = %schedule.function, "scheduled run");
        } else {
            tracing::error!(rule = %schedule.rule, function = %schedule.function, "the schedule's target function does not exist");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_minutes_hours_and_days_become_periods() {
        assert_eq!(parse_rate("rate(1 minute)"), Ok(Duration::from_mins(1)));
        assert_eq!(parse_rate("rate(5 minutes)"), Ok(Duration::from_mins(5)));
        assert_eq!(parse_rate("rate(1 hour)"), Ok(Duration::from_hours(1)));
        assert_eq!(parse_rate("rate(12 hours)"), Ok(Duration::from_hours(12)));
        assert_eq!(parse_rate("rate(1 day)"), Ok(Duration::from_hours(24)));
        assert_eq!(parse_rate("rate(7 days)"), Ok(Duration::from_hours(168)));
    }

    #[test]
    fn a_unit_that_disagrees_with_its_value_is_refused_as_eventbridge_refuses_it() {
        for expression in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(1 hours)",
            "rate(2 day)",
        ] {
            assert!(
                matches!(parse_rate(expression), Err(ScheduleError::Invalid { .. })),
                "{expression}"
            );
        }
    }

    #[test]
    fn malformed_rates_are_refused() {
        for expression in [
            "rate(0 minutes)",
            "rate(-1 minutes)",
            "rate(1.5 hours)",
            "rate(5 seconds)",
            "rate(5minutes)",
            "rate(5 minutes",
            "rate( minutes)",
            "every 5 minutes",
            "rate(99999999999999999999 days)",
        ] {
            assert!(
                matches!(parse_rate(expression), Err(ScheduleError::Invalid { .. })),
                "{expression}"
            );
        }
    }

    #[test]
    fn a_cron_schedule_is_refused_with_a_reason() {
        let error = parse_rate("cron(0 12 * * ? *)").unwrap_err();
        assert_eq!(error, ScheduleError::Cron("cron(0 12 * * ? *)".to_owned()));
        assert!(error.to_string().contains("rate(...)"));
    }

    #[test]
    fn the_event_is_eventbridges_scheduled_event_naming_the_rule() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/tick", at);
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["time"], "2023-11-14T22:13:20Z");
        assert_eq!(
            event["resources"],
            json!(["arn:aws:events:us-east-1:123456789012:rule/tick"])
        );
        assert_eq!(event["detail"], json!({}));
        assert_eq!(event["account"], crate::ACCOUNT);
        assert!(event["id"].as_str().is_some_and(|id| id.len() == 36));
    }
}
