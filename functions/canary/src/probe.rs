//! One round of the canary: every service's health route asked at once through the public API,
//! each answer (or its absence) recorded as metrics and a log line.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use shop_observability::{
    Metrics,
    metric_names::{CANARY_AVAILABILITY, CANARY_LATENCY},
};

/// The services the canary watches, each at `GET /<service>/health`.
pub const SERVICES: [&str; 6] = [
    "auth",
    "catalog",
    "inventory",
    "orders",
    "payments",
    "shipping",
];

/// How long one health request may take. A route's own checks give up after 2 s
/// (`shop_http::health::CHECK_TIMEOUT`); an answer later than this means the function could not
/// start or the gateway is stuck, and a customer would have given up too.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks the health routes of one API.
#[derive(Debug, Clone)]
pub struct Canary {
    http: reqwest::Client,
    api_url: String,
    timeout: Duration,
}

impl Canary {
    /// A canary of the API at `api_url` (no trailing slash).
    pub fn new(api_url: impl Into<String>) -> Result<Self, reqwest::Error> {
        Self::with_timeout(api_url, REQUEST_TIMEOUT)
    }

    /// [`Canary::new`] with another request timeout.
    pub fn with_timeout(
        api_url: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            api_url: api_url.into(),
            timeout,
        })
    }

    /// Asks every service at once.
    pub async fn run(&self) -> Vec<Probe> {
        futures::future::join_all(SERVICES.map(|service| self.probe(service))).await
    }

    /// Asks one service's health route.
    pub async fn probe(&self, service: &'static str) -> Probe {
        let started = Instant::now();
        let url = format!("{}/{service}/health", self.api_url);
        let answer = match self.http.get(&url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // The body is read in full before the clock stops: a health answer is only as
                // fast as its last byte.
                let body = response.json::<HealthAnswer>().await;
                Ok((status, body))
            }
            Err(error) => Err(error),
        };
        let latency = started.elapsed();
        match answer {
            Ok((status, Ok(body))) => Probe {
                service,
                available: status == 200 && body.status == "ok",
                latency,
                status: Some(status),
                failed_checks: body
                    .checks
                    .into_iter()
                    .filter(|(_, outcome)| outcome != "ok")
                    .map(|(name, _)| name)
                    .collect(),
                error: None,
            },
            Ok((status, Err(error))) => Probe {
                service,
                available: false,
                latency,
                status: Some(status),
                failed_checks: Vec::new(),
                error: Some(format!("the answer is no health report: {error}")),
            },
            Err(error) => Probe {
                service,
                available: false,
                latency,
                status: None,
                failed_checks: Vec::new(),
                error: Some(if error.is_timeout() {
                    format!("no answer within {} ms", self.timeout.as_millis())
                } else {
                    format!("no answer: {}", shop_aws::error_chain(&error))
                }),
            },
        }
    }
}

/// The part of `shop_http::Health` the canary reads.
#[derive(Debug, Deserialize)]
struct HealthAnswer {
    status: String,
    checks: BTreeMap<String, String>,
}

/// What one health request found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub service: &'static str,
    /// The route answered 200 with `"status": "ok"`.
    pub available: bool,
    /// From sending the request to the answer's last byte (or to giving up).
    #[serde(rename = "latency_ms", serialize_with = "millis")]
    pub latency: Duration,
    /// The HTTP status; none when no answer came.
    pub status: Option<u16>,
    /// The checks the service reported as not ok (`"read_model"`).
    pub failed_checks: Vec<String>,
    /// Why the answer was missing or unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

// serde hands `serialize_with` functions a reference, whatever the type.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn millis<S: serde::Serializer>(latency: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(latency.as_secs_f64() * 1000.0)
}

impl Probe {
    /// The EMF document: `service` is the service checked, not the canary.
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.service)
            .count(CANARY_AVAILABILITY.name, u32::from(self.available))
            .millis(CANARY_LATENCY.name, self.latency.as_secs_f64() * 1000.0)
    }

    /// Emits the metrics and one log line.
    pub fn record(&self) {
        self.metrics().emit();
        let latency_ms = self.latency.as_secs_f64() * 1000.0;
        if self.available {
            tracing::info!(
                service = self.service,
                available = true,
                status = self.status,
                latency_ms,
                "health check"
            );
        } else {
            tracing::warn!(
                service = self.service,
                available = false,
                status = self.status,
                latency_ms,
                failed_checks = ?self.failed_checks,
                error = self.error.as_deref(),
                "health check"
            );
        }
    }
}
