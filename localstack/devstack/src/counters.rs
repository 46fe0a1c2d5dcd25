//! Counts of what devstack did where AWS would have done it silently: events lost or parked,
//! retries, refusals. Tests read them from the edge (`GET /_devstack/counters`) to prove that
//! a fault they injected happened, not merely that nothing went wrong.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

/// What is counted, each per scope (a function's or rule's logical id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    /// An attempt of an asynchronous invocation (first run and retries).
    AsyncAttempt,
    /// A failed asynchronous invocation sent to the function's on-failure destination.
    AsyncParked,
    /// A failed asynchronous invocation dropped: the function has no on-failure destination.
    AsyncLost,
    /// Stream records a mapping gave up on (retries exhausted or too old).
    StreamDiscarded,
    /// Discarded stream records with no on-failure destination to describe them.
    StreamLost,
    /// An event a rule could not deliver and had no usable dead-letter queue for.
    RuleLost,
    /// An injected fault fired (scope: the fault's id).
    FaultFired,
    /// A function's call its execution role does not allow, refused at the edge.
    AccessDenied,
    /// A scheduled rule fired and invoked its function (scope: the rule's logical id).
    ScheduledRun,
    /// An AWS API call that passed the edge to the emulator (scope: its `X-Amz-Target`, e.g.
    /// `TrentService.Encrypt`): what is billed per request, for the cost model.
    AwsCall,
    /// The same calls per calling function (scope: its logical id).
    AwsCallBy,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Self::AsyncAttempt => "AsyncAttempt",
            Self::AsyncParked => "AsyncParked",
            Self::AsyncLost => "AsyncLost",
            Self::StreamDiscarded => "StreamDiscarded",
            Self::StreamLost => "StreamLost",
            Self::RuleLost => "RuleLost",
            Self::FaultFired => "FaultFired",
            Self::AccessDenied => "AccessDenied",
            Self::ScheduledRun => "ScheduledRun",
            Self::AwsCall => "AwsCall",
            Self::AwsCallBy => "AwsCallBy",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Counters {
    counts: Arc<Mutex<BTreeMap<(Counter, String), u64>>>,
}

impl Counters {
    pub fn add(&self, counter: Counter, scope: &str) {
        *self
            .counts
            .lock()
            .expect("counters")
            .entry((counter, scope.to_owned()))
            .or_default() += 1;
    }

    pub fn get(&self, counter: Counter, scope: &str) -> u64 {
        self.counts
            .lock()
            .expect("counters")
            .get(&(counter, scope.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// `{"AsyncLost": {"RecorderFunction": 1}, ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for ((counter, scope), count) in self.counts.lock().expect("counters").iter() {
            let entry = out
                .entry(counter.name())
                .or_insert_with(|| serde_json::json!({}));
            entry[scope.as_str()] = serde_json::json!(count);
        }
        serde_json::Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_per_counter_and_scope() {
        let counters = Counters::default();
        counters.add(Counter::AsyncLost, "Fn");
        counters.add(Counter::AsyncLost, "Fn");
        counters.add(Counter::AsyncAttempt, "Other");
        assert_eq!(counters.get(Counter::AsyncLost, "Fn"), 2);
        assert_eq!(counters.get(Counter::AsyncLost, "Other"), 0);
        assert_eq!(
            counters.to_json(),
            serde_json::json!({"AsyncAttempt": {"Other": 1}, "AsyncLost": {"Fn": 2}})
        );
    }
}
