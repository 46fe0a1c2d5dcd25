//! The name of every metric the shop emits under [`crate::metrics::NAMESPACE`], with the
//! dimensions it carries. The template's dashboards and alarms may ask only for these
//! (`localstack/devstack/tests/shop_dashboards.rs` checks every widget), so a metric renamed
//! here is renamed for its emitter and its readers at once.

/// Every metric has this dimension: the service that emitted it.
pub const SERVICE: &str = "service";
/// The route as the router matched it, with its method: `GET /products/{id}`.
pub const ROUTE: &str = "route";
/// Which failed-login counter refused a login: `account_from_source`, `account`, `source`.
pub const LIMIT: &str = "limit";
/// Why a login failed: `not_authorized`, `unknown_user`, `not_confirmed`, ...
pub const REASON: &str = "reason";

/// One metric: its name, and the dimensions it carries after [`SERVICE`], in order.
/// [`crate::Metrics`] declares every prefix of the dimensions as a set of its own, so the
/// metric can be read per service, per service and route, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricName {
    pub name: &'static str,
    pub dimensions: &'static [&'static str],
}

impl MetricName {
    /// Whether CloudWatch holds this metric under exactly these dimension names.
    pub fn has_dimension_set(&self, names: &[&str]) -> bool {
        let emitted: Vec<&str> = std::iter::once(SERVICE)
            .chain(self.dimensions.iter().copied())
            .collect();
        (1..=emitted.len()).any(|n| {
            let set = &emitted[..n];
            set.len() == names.len() && set.iter().all(|name| names.contains(name))
        })
    }
}

// The HTTP access log's, per request (crate::access_log).
pub const REQUESTS: MetricName = MetricName {
    name: "Requests",
    dimensions: &[ROUTE],
};
pub const ERRORS_4XX: MetricName = MetricName {
    name: "Errors4xx",
    dimensions: &[ROUTE],
};
pub const ERRORS_5XX: MetricName = MetricName {
    name: "Errors5xx",
    dimensions: &[ROUTE],
};
/// Milliseconds from the request reaching the router to the response leaving it.
pub const LATENCY: MetricName = MetricName {
    name: "Latency",
    dimensions: &[ROUTE],
};

// The event kit's (shop_events): publishers, parking and inboxes.
pub const EVENTS_PUBLISHED: MetricName = MetricName {
    name: "EventsPublished",
    dimensions: &[],
};
/// Stream batches of which at least one record could not be put on the bus.
pub const PUBLISH_FAILURES: MetricName = MetricName {
    name: "PublishFailures",
    dimensions: &[],
};
pub const RECORDS_PARKED: MetricName = MetricName {
    name: "RecordsParked",
    dimensions: &[],
};
pub const EVENTS_REJECTED: MetricName = MetricName {
    name: "EventsRejected",
    dimensions: &[],
};

// Auth's login attempts (functions/auth/src/service.rs).
pub const LOGIN_SUCCEEDED: MetricName = MetricName {
    name: "LoginSucceeded",
    dimensions: &[],
};
pub const LOGIN_FAILED: MetricName = MetricName {
    name: "LoginFailed",
    dimensions: &[REASON],
};
pub const LOGIN_THROTTLED: MetricName = MetricName {
    name: "LoginThrottled",
    dimensions: &[LIMIT],
};

// Orders' saga starter (functions/orders/src/entrypoints/bus/saga.rs): one start per order,
// and the duplicate OrderPlaced deliveries it ignored.
pub const SAGAS_STARTED: MetricName = MetricName {
    name: "SagasStarted",
    dimensions: &[],
};
pub const SAGA_ALREADY_STARTED: MetricName = MetricName {
    name: "SagaAlreadyStarted",
    dimensions: &[],
};

// The uptime canary's (functions/canary), one of each per service and run. Here `service` is
// the service whose health route was asked, not the canary that asked.
/// 1 when the service's health route answered 200 "ok" in time, else 0.
pub const CANARY_AVAILABILITY: MetricName = MetricName {
    name: "CanaryAvailability",
    dimensions: &[],
};
/// Milliseconds from the canary's request to the health answer's last byte (or to giving up).
pub const CANARY_LATENCY: MetricName = MetricName {
    name: "CanaryLatency",
    dimensions: &[],
};

/// Every metric above.
pub const ALL: [MetricName; 15] = [
    REQUESTS,
    ERRORS_4XX,
    ERRORS_5XX,
    LATENCY,
    EVENTS_PUBLISHED,
    PUBLISH_FAILURES,
    RECORDS_PARKED,
    EVENTS_REJECTED,
    LOGIN_SUCCEEDED,
    LOGIN_FAILED,
    LOGIN_THROTTLED,
    SAGAS_STARTED,
    SAGA_ALREADY_STARTED,
    CANARY_AVAILABILITY,
    CANARY_LATENCY,
];

/// The metric of that name, if the shop emits one.
pub fn named(name: &str) -> Option<MetricName> {
    ALL.into_iter().find(|metric| metric.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_is_held_under_each_prefix_of_its_dimensions_in_any_order() {
        assert!(REQUESTS.has_dimension_set(&["service"]));
        assert!(REQUESTS.has_dimension_set(&["route", "service"]));
        assert!(!REQUESTS.has_dimension_set(&["route"]));
        assert!(!REQUESTS.has_dimension_set(&[]));
        assert!(!REQUESTS.has_dimension_set(&["service", "limit"]));
        assert!(EVENTS_PUBLISHED.has_dimension_set(&["service"]));
        assert!(!EVENTS_PUBLISHED.has_dimension_set(&["service", "route"]));
    }

    #[test]
    fn every_name_is_listed_once() {
        for metric in ALL {
            assert_eq!(
                ALL.iter().filter(|m| m.name == metric.name).count(),
                1,
                "{}",
                metric.name
            );
            assert_eq!(named(metric.name), Some(metric));
        }
        assert_eq!(named("Nothing"), None);
    }
}
