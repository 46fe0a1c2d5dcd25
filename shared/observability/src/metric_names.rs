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
/// Why a login failed (`not_authorized`, `unknown_user`, `not_confirmed`, ...), or why the
/// saga rejected an order (its error type: `OutOfStock`, `PaymentDeclined`, ...).
pub const REASON: &str = "reason";
/// Which compensating step of the place-order saga undid something: `VoidPayment`,
/// `ReleaseStock`, `RejectOrder` (the state names of `infra/statemachines/place-order.asl.json`).
pub const STEP: &str = "step";
/// The ISO 4217 code of an amount of money: `EUR`.
pub const CURRENCY: &str = "currency";

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

// The business, each counted once where the fact is stored, never for a repeat that found it
// done. How long a saga takes is not here: Step Functions publishes it as `ExecutionTime` per
// state machine (namespace AWS/States), on the saga dashboard.
/// An order stored as placed (orders): a replayed `Idempotency-Key` places nothing.
pub const ORDERS_PLACED: MetricName = MetricName {
    name: "OrdersPlaced",
    dimensions: &[],
};
pub const ORDERS_CONFIRMED: MetricName = MetricName {
    name: "OrdersConfirmed",
    dimensions: &[],
};
/// Rejected by the saga, per its error type (a name that is not an error type is `Other`).
pub const ORDERS_REJECTED: MetricName = MetricName {
    name: "OrdersRejected",
    dimensions: &[REASON],
};
pub const ORDERS_CANCELLED: MetricName = MetricName {
    name: "OrdersCancelled",
    dimensions: &[],
};
/// The total of each confirmed order in cents (no CloudWatch unit), when it is confirmed: a
/// later cancellation does not take it back.
pub const REVENUE: MetricName = MetricName {
    name: "Revenue",
    dimensions: &[CURRENCY],
};
/// A compensating step of the saga that undid something (voided a hold, gave stock back,
/// rejected the order), emitted by the service that owns the step. A step that found nothing
/// to undo is not counted.
pub const COMPENSATIONS: MetricName = MetricName {
    name: "Compensations",
    dimensions: &[STEP],
};
/// A reservation refused for lack of stock (inventory), which rejects the order.
pub const STOCK_OUTS: MetricName = MetricName {
    name: "StockOuts",
    dimensions: &[],
};
/// A card the provider declined (payments).
pub const PAYMENTS_DECLINED: MetricName = MetricName {
    name: "PaymentsDeclined",
    dimensions: &[],
};
/// A shipment scheduled for a confirmed order (shipping).
pub const SHIPMENTS_SCHEDULED: MetricName = MetricName {
    name: "ShipmentsScheduled",
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
pub const ALL: [MetricName; 24] = [
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
    ORDERS_PLACED,
    ORDERS_CONFIRMED,
    ORDERS_REJECTED,
    ORDERS_CANCELLED,
    REVENUE,
    COMPENSATIONS,
    STOCK_OUTS,
    PAYMENTS_DECLINED,
    SHIPMENTS_SCHEDULED,
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
