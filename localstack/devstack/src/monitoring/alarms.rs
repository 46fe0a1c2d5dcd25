//! CloudWatch alarms, evaluated as CloudWatch evaluates them, on the metrics devstack keeps.
//!
//! An alarm looks at its last `EvaluationPeriods` periods of one metric or metric-math
//! expression and is in ALARM when `DatapointsToAlarm` of them breach the threshold; periods
//! without data count as `TreatMissingData` says (`missing` by default: they do not count, and
//! with no data at all the alarm has insufficient data). A composite alarm's rule combines other
//! alarms' states. On every change of state, the alarm's actions for the new state are notified:
//! devstack publishes CloudWatch's message to each SNS topic among them, and moto delivers it to
//! the topic's subscriptions. Periods are divided by the stack's time scale, like AWS's other
//! waits, so a five-minute alarm decides in seconds.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{
    MetricKey, MetricStore, Stat, Window,
    math::{self, Inputs},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Alarm,
    InsufficientData,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// One alarm of the template, its intrinsics resolved.
#[derive(Debug, Clone)]
pub struct AlarmSpec {
    pub name: String,
    pub arn: String,
    pub description: String,
    pub condition: Condition,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Condition {
    Metric(MetricCondition),
    /// An `AlarmRule` over other alarms' states.
    Composite(Rule),
}

#[derive(Debug, Clone)]
pub struct MetricCondition {
    pub queries: Vec<Query>,
    pub period_seconds: u64,
    pub evaluation_periods: usize,
    pub datapoints_to_alarm: usize,
    pub threshold: f64,
    pub comparison: String,
    pub treat_missing: String,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub id: String,
    pub source: Source,
    pub return_data: bool,
}

#[derive(Debug, Clone)]
pub enum Source {
    Metric { key: MetricKey, stat: Stat },
    Expression(String),
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    text(value)?.parse().ok()
}

/// A count or a number of seconds, written as a number or (after `!Ref`) a string.
fn whole(value: &Value) -> Option<u64> {
    text(value)?.parse().ok()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(text)
        .collect()
}

fn metric_key(metric: &Value) -> Option<MetricKey> {
    Some(MetricKey {
        namespace: text(&metric["Namespace"])?,
        name: text(&metric["MetricName"])?,
        dimensions: metric["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some((text(&d["Name"])?, text(&d["Value"])?)))
            .collect(),
    })
}

impl AlarmSpec {
    /// An `AWS::CloudWatch::Alarm` or `CompositeAlarm` from its resolved properties.
    pub fn parse(name: &str, arn: &str, properties: &Value) -> Result<Self, String> {
        let condition = if let Some(rule) = properties["AlarmRule"].as_str() {
            Condition::Composite(Rule::parse(rule)?)
        } else {
            Condition::Metric(MetricCondition::parse(properties)?)
        };
        Ok(Self {
            name: name.to_owned(),
            arn: arn.to_owned(),
            description: text(&properties["AlarmDescription"]).unwrap_or_default(),
            condition,
            alarm_actions: strings(&properties["AlarmActions"]),
            ok_actions: strings(&properties["OKActions"]),
        })
    }
}

impl MetricCondition {
    fn parse(properties: &Value) -> Result<Self, String> {
        let mut queries = Vec::new();
        let mut period_seconds = whole(&properties["Period"]).unwrap_or(60);
        if let Some(metrics) = properties["Metrics"].as_array() {
            for query in metrics {
                let id = text(&query["Id"]).ok_or("a metric query without Id")?;
                let source = if let Some(expression) = text(&query["Expression"]) {
                    Source::Expression(expression)
                } else {
                    let stat = &query["MetricStat"];
                    period_seconds = whole(&stat["Period"]).unwrap_or(60);
                    Source::Metric {
                        key: metric_key(&stat["Metric"]).ok_or(format!("{id}: no metric"))?,
                        stat: text(&stat["Stat"])
                            .and_then(|s| Stat::parse(&s))
                            .ok_or(format!("{id}: a statistic devstack does not compute"))?,
                    }
                };
                queries.push(Query {
                    id,
                    source,
                    return_data: query["ReturnData"].as_bool().unwrap_or(true),
                });
            }
        } else {
            let stat = text(&properties["Statistic"])
                .or_else(|| text(&properties["ExtendedStatistic"]))
                .and_then(|s| Stat::parse(&s))
                .ok_or("no statistic devstack computes")?;
            queries.push(Query {
                id: "m1".to_owned(),
                source: Source::Metric {
                    key: metric_key(properties).ok_or("no metric")?,
                    stat,
                },
                return_data: true,
            });
        }
        let count = |value: &Value| whole(value).and_then(|n| usize::try_from(n).ok());
        let evaluation_periods = count(&properties["EvaluationPeriods"]).unwrap_or(1);
        Ok(Self {
            queries,
            period_seconds,
            evaluation_periods,
            datapoints_to_alarm: count(&properties["DatapointsToAlarm"])
                .unwrap_or(evaluation_periods),
            threshold: number(&properties["Threshold"]).ok_or("no threshold")?,
            comparison: text(&properties["ComparisonOperator"]).ok_or("no comparison")?,
            treat_missing: text(&properties["TreatMissingData"])
                .unwrap_or_else(|| "missing".to_owned()),
        })
    }

    /// The datapoints of the alarm's last periods, oldest first.
    pub fn datapoints(
        &self,
        store: &MetricStore,
        window: Window,
    ) -> Result<Vec<Option<f64>>, String> {
        let mut inputs = Inputs {
            periods: window.periods(),
            ..Inputs::default()
        };
        // Metrics first: an expression may name metrics declared after it, as CloudWatch allows.
        for query in &self.queries {
            if let Source::Metric { key, stat } = &query.source {
                inputs.insert(&query.id, store.read(key, *stat, window));
            }
        }
        let mut returned = None;
        for query in &self.queries {
            let series = match &query.source {
                Source::Metric { .. } => inputs.by_id[&query.id].clone(),
                Source::Expression(expression) => {
                    let series = math::evaluate(expression, &inputs)?;
                    inputs.by_id.insert(query.id.clone(), series.clone());
                    series
                }
            };
            if query.return_data {
                returned = Some(series);
            }
        }
        returned.ok_or_else(|| "no query returns data".to_owned())
    }

    fn breaches(&self, value: f64) -> bool {
        match self.comparison.as_str() {
            "GreaterThanOrEqualToThreshold" => value >= self.threshold,
            "GreaterThanThreshold" => value > self.threshold,
            "LessThanThreshold" => value < self.threshold,
            "LessThanOrEqualToThreshold" => value <= self.threshold,
            _ => false,
        }
    }

    /// The state these datapoints put the alarm in (`None`: keep the current one), and why.
    pub fn decide(&self, datapoints: &[Option<f64>]) -> (Option<State>, String) {
        let mut breaching = 0;
        let mut present = 0;
        for point in datapoints {
            match point {
                Some(value) => {
                    present += 1;
                    breaching += usize::from(self.breaches(*value));
                }
                None if self.treat_missing == "breaching" => {
                    present += 1;
                    breaching += 1;
                }
                None if self.treat_missing == "notBreaching" => present += 1,
                None => {}
            }
        }
        let shown: Vec<String> = datapoints
            .iter()
            .flatten()
            .map(|v| format!("{v}"))
            .collect();
        let reason = format!(
            "{breaching} of the last {} datapoints [{}] crossed the threshold ({} {})",
            datapoints.len(),
            shown.join(", "),
            self.comparison,
            self.threshold
        );
        let state = if breaching >= self.datapoints_to_alarm.max(1) {
            Some(State::Alarm)
        } else if present == 0 {
            match self.treat_missing.as_str() {
                "ignore" => None,
                _ => Some(State::InsufficientData),
            }
        } else {
            Some(State::Ok)
        };
        (state, reason)
    }
}

/// A composite alarm's rule: `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)`, `TRUE`, `FALSE`,
/// joined by `AND`, `OR`, `NOT` and parentheses; `x` is an alarm's name or ARN.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Is(State, String),
    Constant(bool),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

impl Rule {
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = rule_tokens(text);
        let mut at = 0;
        let rule = parse_or(&tokens, &mut at)?;
        if at == tokens.len() {
            Ok(rule)
        } else {
            Err(format!("unexpected {} in the alarm rule", tokens[at]))
        }
    }

    pub fn holds(&self, state_of: &dyn Fn(&str) -> State) -> bool {
        match self {
            Self::Is(state, alarm) => state_of(alarm) == *state,
            Self::Constant(value) => *value,
            Self::Not(rule) => !rule.holds(state_of),
            Self::And(a, b) => a.holds(state_of) && b.holds(state_of),
            Self::Or(a, b) => a.holds(state_of) || b.holds(state_of),
        }
    }
}

fn rule_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | ')' if !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
                tokens.push(c.to_string());
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn parse_or(tokens: &[String], at: &mut usize) -> Result<Rule, String> {
    let mut rule = parse_and(tokens, at)?;
    while tokens.get(*at).is_some_and(|t| t == "OR") {
        *at += 1;
        rule = Rule::Or(Box::new(rule), Box::new(parse_and(tokens, at)?));
    }
    Ok(rule)
}

fn parse_and(tokens: &[String], at: &mut usize) -> Result<Rule, String> {
    let mut rule = parse_not(tokens, at)?;
    while tokens.get(*at).is_some_and(|t| t == "AND") {
        *at += 1;
        rule = Rule::And(Box::new(rule), Box::new(parse_not(tokens, at)?));
    }
    Ok(rule)
}

fn parse_not(tokens: &[String], at: &mut usize) -> Result<Rule, String> {
    let token = tokens.get(*at).ok_or("the alarm rule ends early")?.clone();
    *at += 1;
    let expect = |at: &mut usize, wanted: &str| -> Result<(), String> {
        if tokens.get(*at).is_some_and(|t| t == wanted) {
            *at += 1;
            Ok(())
        } else {
            Err(format!("expected {wanted} in the alarm rule"))
        }
    };
    match token.as_str() {
        "NOT" => Ok(Rule::Not(Box::new(parse_not(tokens, at)?))),
        "TRUE" => Ok(Rule::Constant(true)),
        "FALSE" => Ok(Rule::Constant(false)),
        "(" => {
            let rule = parse_or(tokens, at)?;
            expect(at, ")")?;
            Ok(rule)
        }
        "ALARM" | "OK" | "INSUFFICIENT_DATA" => {
            let state = match token.as_str() {
                "ALARM" => State::Alarm,
                "OK" => State::Ok,
                _ => State::InsufficientData,
            };
            expect(at, "(")?;
            let name = tokens.get(*at).ok_or("an alarm name")?.clone();
            *at += 1;
            expect(at, ")")?;
            Ok(Rule::Is(state, name))
        }
        other => Err(format!("unexpected {other} in the alarm rule")),
    }
}

/// What CloudWatch publishes to an alarm's SNS actions on a change of state.
pub fn notification(alarm: &AlarmSpec, old: State, new: State, reason: &str, at: &str) -> Value {
    json!({
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": crate::ACCOUNT,
        "NewStateValue": new.name(),
        "NewStateReason": reason,
        "StateChangeTime": at,
        "Region": "US East (N. Virginia)",
        "AlarmArn": alarm.arn,
        "OldStateValue": old.name(),
        "AlarmActions": alarm.alarm_actions,
        "OKActions": alarm.ok_actions,
    })
}

/// Each alarm's current state and the reason, by name.
pub type States = HashMap<String, (State, String)>;

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(properties: &Value) -> MetricCondition {
        match AlarmSpec::parse("a", "arn", properties).unwrap().condition {
            Condition::Metric(condition) => condition,
            Condition::Composite(_) => panic!("a metric alarm"),
        }
    }

    #[test]
    fn a_simple_alarm_breaches_on_enough_datapoints() {
        let alarm = condition(&json!({
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "dlq"}],
            "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 2, "DatapointsToAlarm": 1,
            "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching"
        }));
        assert_eq!(alarm.decide(&[None, Some(1.0)]).0, Some(State::Alarm));
        assert_eq!(alarm.decide(&[Some(0.0), None]).0, Some(State::Ok));
        assert_eq!(alarm.decide(&[None, None]).0, Some(State::Ok));
    }

    #[test]
    fn missing_data_by_default_leaves_the_alarm_without_enough_data() {
        let alarm = condition(&json!({
            "Namespace": "Shop", "MetricName": "LoginFailed", "Statistic": "Sum", "Period": 300,
            "EvaluationPeriods": 1, "Threshold": "100", "ComparisonOperator": "GreaterThanThreshold"
        }));
        assert!((alarm.threshold - 100.0).abs() < f64::EPSILON);
        assert_eq!(alarm.decide(&[None]).0, Some(State::InsufficientData));
        assert_eq!(alarm.decide(&[Some(101.0)]).0, Some(State::Alarm));
    }

    #[test]
    fn a_math_alarm_reads_its_metrics_and_returns_its_expression() {
        let store = MetricStore::default();
        let key = |name: &str| MetricKey::new("AWS/States", name, &[("StateMachineArn", "sm")]);
        store.record(super::super::Datum {
            key: key("ExecutionsFailed"),
            at_ms: 1_500,
            value: 1.0,
            unit: None,
        });
        let alarm = condition(&json!({
            "Metrics": [
                {"Id": "failures", "Expression": "failed + FILL(timedout, 0)", "ReturnData": true},
                {"Id": "failed", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "AWS/States", "MetricName": "ExecutionsFailed", "Dimensions": [{"Name": "StateMachineArn", "Value": "sm"}]}, "Period": 300, "Stat": "Sum"}},
                {"Id": "timedout", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "AWS/States", "MetricName": "ExecutionsTimedOut", "Dimensions": [{"Name": "StateMachineArn", "Value": "sm"}]}, "Period": 300, "Stat": "Sum"}}
            ],
            "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"
        }));
        // The expression comes first and reads metrics declared after it.
        let window = Window {
            start_ms: 1_000,
            end_ms: 3_000,
            period_ms: 1_000,
        };
        assert_eq!(alarm.datapoints(&store, window).unwrap(), [Some(1.0), None]);
    }

    #[test]
    fn composite_rules_combine_states() {
        let rule = Rule::parse("ALARM(a) OR (ALARM(\"b c\") AND NOT OK(d))").unwrap();
        let states = |alarm: &str| match alarm {
            "b c" => State::Alarm,
            "d" => State::InsufficientData,
            _ => State::Ok,
        };
        assert!(rule.holds(&states));
        assert!(!Rule::parse("ALARM(a)").unwrap().holds(&states));
        assert!(Rule::parse("ALARM(a) OR").is_err());
    }
}
