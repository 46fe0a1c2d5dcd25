//! The template's alarms and dashboards, read once at start-up with their intrinsics resolved,
//! and the loop that evaluates the alarms and notifies their actions.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;

use super::{
    Monitoring, Window,
    alarms::{AlarmSpec, Condition, State, States, notification},
    dashboards::Dashboard,
    now_ms,
};
use crate::template::{Attribute, Properties, Resolver, ResourceKind, Template};

/// What devstack watches, and what it could not read (printed in the banner).
#[derive(Debug, Clone, Default)]
pub struct Watch {
    pub alarms: Vec<AlarmSpec>,
    pub dashboards: Vec<Dashboard>,
    pub unreadable: Vec<String>,
}

impl Watch {
    pub fn of(template: &Template, resolver: &Resolver) -> Self {
        let mut watch = Self::default();
        for resource in &template.resources {
            let Properties::NotEmulated(properties) = &resource.properties else {
                continue;
            };
            let read = resolver
                .resolve(properties, &resource.at(""))
                .map_err(|e| e.to_string());
            match resource.kind {
                ResourceKind::Alarm | ResourceKind::CompositeAlarm => {
                    let name = resolver
                        .get(&resource.logical_id, Attribute::Ref)
                        .unwrap_or_default();
                    let arn = resolver
                        .get(&resource.logical_id, Attribute::Arn)
                        .unwrap_or_default();
                    match read.and_then(|p| AlarmSpec::parse(name, arn, &p)) {
                        Ok(alarm) => watch.alarms.push(alarm),
                        Err(why) => watch.unreadable.push(format!(
                            "{}: devstack cannot evaluate this alarm: {why}",
                            resource.logical_id
                        )),
                    }
                }
                ResourceKind::Dashboard => {
                    let name = read
                        .as_ref()
                        .ok()
                        .and_then(|p| p["DashboardName"].as_str())
                        .map_or_else(|| resource.logical_id.clone(), str::to_owned);
                    let body = read.and_then(|p| {
                        serde_json::from_str::<Value>(p["DashboardBody"].as_str().unwrap_or("{}"))
                            .map_err(|e| format!("the body is not JSON: {e}"))
                    });
                    watch.dashboards.push(Dashboard { name, body });
                }
                _ => {}
            }
        }
        watch
    }
}

/// The alarms' states, shared by the evaluator, the dashboards and the edge.
#[derive(Debug, Clone, Default)]
pub struct AlarmStates(Arc<Mutex<States>>);

impl AlarmStates {
    pub fn snapshot(&self) -> States {
        self.0.lock().expect("alarm states").clone()
    }
}

/// Evaluates every alarm once a second, forever, notifying on each change of state.
pub async fn evaluate(monitoring: Monitoring, emulator: String) {
    let client = reqwest::Client::new();
    loop {
        for (alarm, old, new, reason) in evaluate_once(&monitoring) {
            if new == State::Alarm {
                tracing::warn!(alarm = %alarm.name, from = old.name(), %reason, "alarm: {} is in ALARM", alarm.name);
            } else if old == State::Alarm {
                tracing::info!(alarm = %alarm.name, to = new.name(), %reason, "alarm: {} is {}", alarm.name, new.name());
            } else {
                // Leaving INSUFFICIENT_DATA, as every alarm does at start-up: not news.
                tracing::debug!(alarm = %alarm.name, to = new.name(), %reason, "alarm: {} is {}", alarm.name, new.name());
            }
            let actions = match new {
                State::Alarm => &alarm.alarm_actions,
                State::Ok => &alarm.ok_actions,
                State::InsufficientData => continue,
            };
            let at = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let message = notification(&alarm, old, new, &reason, &at).to_string();
            let subject = format!(
                "{}: \"{}\" in US East (N. Virginia)",
                new.name(),
                alarm.name
            );
            for topic in actions.iter().filter(|a| a.starts_with("arn:aws:sns:")) {
                let published = client
                    .post(&emulator)
                    .header("authorization", crate::emulator::scope_header("sns"))
                    .form(&[
                        ("Action", "Publish"),
                        ("Version", "2010-03-31"),
                        ("TopicArn", topic.as_str()),
                        ("Subject", subject.as_str()),
                        ("Message", message.as_str()),
                    ])
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status);
                if let Err(error) = published {
                    tracing::error!(alarm = %alarm.name, %topic, %error, "the alarm's notification could not be published");
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One round: every metric alarm, then every composite alarm on the states just reached.
fn evaluate_once(monitoring: &Monitoring) -> Vec<(AlarmSpec, State, State, String)> {
    let now = now_ms();
    let mut states = monitoring.alarm_states.0.lock().expect("alarm states");
    let mut changes = Vec::new();
    let mut decided: HashMap<String, (State, String)> = HashMap::new();
    for alarm in monitoring.alarms.iter() {
        let Condition::Metric(condition) = &alarm.condition else {
            continue;
        };
        let period_ms = super::local_period_ms(condition.period_seconds, monitoring.time_scale);
        let window = Window::last(condition.evaluation_periods.max(1), period_ms, now);
        let (state, reason) = match condition.datapoints(&monitoring.store, window) {
            Ok(points) => condition.decide(&points),
            Err(why) => (Some(State::InsufficientData), why),
        };
        if let Some(state) = state {
            decided.insert(alarm.name.clone(), (state, reason));
        }
    }
    for alarm in monitoring.alarms.iter() {
        let Condition::Composite(rule) = &alarm.condition else {
            continue;
        };
        let state_of = |name: &str| {
            let name = name.rsplit(':').next().unwrap_or(name);
            decided
                .get(name)
                .or_else(|| states.get(name))
                .map_or(State::InsufficientData, |(s, _)| *s)
        };
        let state = if rule.holds(&state_of) {
            State::Alarm
        } else {
            State::Ok
        };
        decided.insert(alarm.name.clone(), (state, "the alarm rule".to_owned()));
    }
    for alarm in monitoring.alarms.iter() {
        let Some((state, reason)) = decided.remove(&alarm.name) else {
            continue;
        };
        let old = states
            .get(&alarm.name)
            .map_or(State::InsufficientData, |(s, _)| *s);
        if old != state {
            changes.push((alarm.clone(), old, state, reason.clone()));
        }
        states.insert(alarm.name.clone(), (state, reason));
    }
    changes
}
