//! Faults a test injects into the running stack (`POST /_devstack/faults` on the edge), each
//! scoped to invocations or deliveries whose payload contains a marker (an order id, a SKU) so
//! scenarios can run side by side, and each counted when it fires (`FaultFired`, by the id the
//! POST returned) so a scenario can prove the fault it injected really happened.

use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::counters::{Counter, Counters};

/// What a test asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The function's logical id, or `*` for any.
    pub function: String,
    /// Applies only where the payload contains this text.
    pub marker: String,
    pub fault: Fault,
    /// How many matching invocations or deliveries it applies to.
    pub times: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The invocation fails before the handler runs (`Devstack.InjectedFault`).
    Fail,
    /// The handler runs to its end, then its process is killed before the answer gets out:
    /// the work is done, the caller sees `Runtime.ExitError`.
    CrashAfterWork,
    /// The handler runs to its end, but the caller sees `Sandbox.Timedout`, as when the answer
    /// comes a moment too late.
    TimeoutAfterWork,
    /// The event source delivers the event (or stream batch) twice.
    Duplicate,
    /// The event source holds the delivery this long, letting later ones pass it.
    Delay { ms: u64 },
}

impl Fault {
    /// Faults of the function's invocation, as opposed to the event source's delivery.
    pub fn is_invocation_fault(self) -> bool {
        matches!(
            self,
            Self::Fail | Self::CrashAfterWork | Self::TimeoutAfterWork
        )
    }
}

#[derive(Debug)]
struct Armed {
    id: String,
    spec: FaultSpec,
    remaining: u32,
}

/// The faults armed on the stack.
#[derive(Debug, Clone)]
pub struct Faults {
    armed: Arc<Mutex<Vec<Armed>>>,
    counters: Counters,
}

impl Faults {
    pub fn new(counters: Counters) -> Self {
        Self {
            armed: Arc::default(),
            counters,
        }
    }

    /// Arms a fault; returns its id.
    pub fn arm(&self, spec: FaultSpec) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.armed.lock().expect("faults").push(Armed {
            id: id.clone(),
            remaining: spec.times,
            spec,
        });
        id
    }

    pub fn disarm(&self, id: &str) -> bool {
        let mut armed = self.armed.lock().expect("faults");
        let before = armed.len();
        armed.retain(|fault| fault.id != id);
        armed.len() < before
    }

    /// The fault, of the kinds `wanted` accepts, that applies to this invocation or delivery of
    /// `function`, if one is armed: it fires (is counted and used up) now.
    pub fn fire(
        &self,
        function: &str,
        payload: &[u8],
        wanted: impl Fn(Fault) -> bool,
    ) -> Option<Fault> {
        let mut armed = self.armed.lock().expect("faults");
        let fault = armed.iter_mut().find(|fault| {
            fault.remaining > 0
                && wanted(fault.spec.fault)
                && (fault.spec.function == "*" || fault.spec.function == function)
                && contains(payload, fault.spec.marker.as_bytes())
        })?;
        fault.remaining -= 1;
        self.counters.add(Counter::FaultFired, &fault.id);
        tracing::warn!(fault = %fault.id, function, kind = ?fault.spec.fault, "injected fault fired");
        Some(fault.spec.fault)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(fault: Fault, times: u32) -> FaultSpec {
        FaultSpec {
            function: "Fn".into(),
            marker: "order-1".into(),
            fault,
            times,
        }
    }

    #[test]
    fn a_fault_fires_only_for_its_function_and_marker_and_only_so_often() {
        let counters = Counters::default();
        let faults = Faults::new(counters.clone());
        let id = faults.arm(spec(Fault::Fail, 2));
        let any = |_| true;
        assert_eq!(faults.fire("Other", b"order-1", any), None);
        assert_eq!(faults.fire("Fn", b"order-2", any), None);
        assert_eq!(
            faults.fire("Fn", b"{\"id\":\"order-1\"}", any),
            Some(Fault::Fail)
        );
        assert_eq!(faults.fire("Fn", b"order-1", any), Some(Fault::Fail));
        assert_eq!(faults.fire("Fn", b"order-1", any), None);
        assert_eq!(counters.get(Counter::FaultFired, &id), 2);
    }

    #[test]
    fn delivery_faults_and_invocation_faults_are_taken_by_their_own_layer() {
        let faults = Faults::new(Counters::default());
        faults.arm(spec(Fault::Duplicate, 1));
        assert_eq!(
            faults.fire("Fn", b"order-1", Fault::is_invocation_fault),
            None
        );
        assert_eq!(
            faults.fire("Fn", b"order-1", |f| !f.is_invocation_fault()),
            Some(Fault::Duplicate)
        );
    }

    #[test]
    fn a_disarmed_fault_never_fires() {
        let faults = Faults::new(Counters::default());
        let id = faults.arm(spec(Fault::Fail, 5));
        assert!(faults.disarm(&id));
        assert_eq!(faults.fire("Fn", b"order-1", |_| true), None);
    }
}
