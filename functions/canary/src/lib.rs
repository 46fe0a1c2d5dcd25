//! The uptime canary. On every scheduled run it asks each service's deep health route
//! (`GET /<service>/health`) through the public API, as a customer's request would travel,
//! and records per service whether it answered "ok" and how long it took: the
//! `CanaryAvailability` and `CanaryLatency` metrics the availability alarm watches, and one log
//! line per check. It calls no AWS API.

pub mod config;
pub mod probe;

pub const SERVICE: &str = "canary";

use probe::{Canary, Probe};

/// One scheduled run. The Scheduled Event says only when it fired, which the log lines carry
/// anyway. A service found down is what the run is for, not a failure of the function: the run
/// succeeds, so Lambda does not retry it and skew the next minute's numbers.
pub async fn run(canary: &Canary) -> Result<Vec<Probe>, std::convert::Infallible> {
    let probes = canary.run().await;
    for probe in &probes {
        probe.record();
    }
    Ok(probes)
}
