//! A bus consumer's typed inbox: the events one function takes from EventBridge, as an enum.
//!
//! Each consumer declares its own enum with [`inbox!`](crate::inbox), one variant per event
//! type it handles, each holding only the fields it reads. Services share the event schemas
//! (`events/schemas/`), never these types, so "who consumes StockReleased?" is answered by
//! searching for the variant. Fields a consumer does not read are ignored, so additive schema
//! versions are accepted.
//!
//! Each variant names the one service that may publish it (`OrderCancelled from "shop.orders"`):
//! EventBridge lets any principal allowed to put events choose any `source`, so the template
//! binds each publisher to its own (`events:source`) and the inbox refuses an event of a type
//! from anyone else. A consumer never releases stock or refunds money because some other
//! publisher said an order was cancelled.
//!
//! An event the inbox cannot read (not an envelope, a type it does not take, a foreign source,
//! data missing a field it needs) is rejected: logged, counted as `EventsRejected` and returned as the
//! invocation's error. EventBridge then retries it and parks it in the rule's dead-letter queue,
//! from where it can be redriven once the consumer or the producer is fixed. It is never
//! acknowledged unread or handled with empty fields.

use std::{error::Error, future::Future};

use lambda_runtime::{LambdaEvent, service_fn};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use shop_observability::{Metrics, metric_names};
use time::OffsetDateTime;
use tracing::Instrument;
use uuid::Uuid;

use crate::Envelope;

/// The events one consumer takes. Implemented by [`inbox!`](crate::inbox), which keeps
/// [`TYPES`](Inbox::TYPES) and the enum's variants one list.
pub trait Inbox: DeserializeOwned {
    /// The event types (`detail-type`, the envelope's `type`) the consumer takes: the names of
    /// its variants. The EventBridge rule that feeds the consumer matches exactly these.
    const TYPES: &'static [&'static str];
    /// The `source` each of [`TYPES`](Inbox::TYPES) must come from, in the same order.
    const SOURCES: &'static [&'static str];
}

/// Declares a consumer's inbox: an enum read from the envelope's `type` and `data`
/// (`#[serde(tag = "type", content = "data")]`), and its [`Inbox`] implementation.
///
/// ```
/// shop_events::inbox! {
///     /// What shipping takes from the bus.
///     pub enum ShippingInbox {
///         OrderConfirmed from "shop.orders" { order_id: String, customer_id: String },
///         OrderCancelled from "shop.orders" { order_id: String, customer_id: String },
///     }
/// }
/// use shop_events::Inbox;
/// assert_eq!(ShippingInbox::TYPES, ["OrderConfirmed", "OrderCancelled"]);
/// assert_eq!(ShippingInbox::SOURCES, ["shop.orders", "shop.orders"]);
/// ```
#[macro_export]
macro_rules! inbox {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident from $source:literal $fields:tt),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, ::serde::Deserialize)]
        #[serde(tag = "type", content = "data")]
        $vis enum $name {
            $($(#[$variant_meta])* $variant $fields),+
        }

        impl $crate::Inbox for $name {
            const TYPES: &'static [&'static str] = &[$(stringify!($variant)),+];
            const SOURCES: &'static [&'static str] = &[$($source),+];
        }
    };
}

/// One event from the bus, read through a consumer's inbox: the envelope's metadata and the
/// typed event.
#[derive(Debug)]
pub struct Delivery<I> {
    /// Stable across redeliveries: what a consumer deduplicates on.
    pub event_id: Uuid,
    pub event_type: String,
    /// The producing aggregate's version after the change.
    pub sequence: u64,
    pub correlation_id: String,
    pub occurred_at: OffsetDateTime,
    pub event: I,
}

/// Why an event was not read. Each is a fault of the producer, the consumer or the rule
/// between them, which a retry does not fix but a redrive after the fix does.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("not an integration event: {0}")]
    NotAnEnvelope(#[source] serde_json::Error),
    #[error("{event_type} is not an event this consumer takes (it takes {expected:?})")]
    NotTaken {
        event_type: String,
        expected: &'static [&'static str],
    },
    #[error("{event_type} comes from {from:?}, but only {expected} publishes it")]
    ForeignSource {
        event_type: String,
        /// The event's `source`, if it has one.
        from: Option<String>,
        expected: &'static str,
    },
    #[error("{event_type} lacks what this consumer reads: {source}")]
    Malformed {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Rejected {
    fn event_type(&self) -> Option<&str> {
        match self {
            Self::NotAnEnvelope(_) => None,
            Self::NotTaken { event_type, .. }
            | Self::ForeignSource { event_type, .. }
            | Self::Malformed { event_type, .. } => Some(event_type),
        }
    }
}

impl<I: Inbox> Delivery<I> {
    /// Reads an EventBridge event (`{"detail-type": .., "detail": <envelope>, ..}`).
    pub fn read(mut event: Value) -> Result<Self, Rejected> {
        let detail = event.get_mut("detail").map_or(Value::Null, Value::take);
        let envelope: Envelope = serde_json::from_value(detail).map_err(Rejected::NotAnEnvelope)?;
        let Some(index) = I::TYPES
            .iter()
            .position(|taken| *taken == envelope.event_type)
        else {
            return Err(Rejected::NotTaken {
                event_type: envelope.event_type,
                expected: I::TYPES,
            });
        };
        let source = event["source"].as_str();
        if source != Some(I::SOURCES[index]) {
            return Err(Rejected::ForeignSource {
                event_type: envelope.event_type,
                from: source.map(str::to_owned),
                expected: I::SOURCES[index],
            });
        }
        let tagged = Map::from_iter([
            (
                "type".to_owned(),
                Value::String(envelope.event_type.clone()),
            ),
            ("data".to_owned(), envelope.data),
        ]);
        let event = serde_json::from_value(Value::Object(tagged)).map_err(|source| {
            Rejected::Malformed {
                event_type: envelope.event_type.clone(),
                source,
            }
        })?;
        Ok(Self {
            event_id: envelope.event_id,
            event_type: envelope.event_type,
            sequence: envelope.sequence,
            correlation_id: envelope.correlation_id,
            occurred_at: envelope.occurred_at,
            event,
        })
    }
}

/// [`Delivery::read`], with a rejection logged and counted (`EventsRejected`, per service).
pub fn receive<I: Inbox>(service: &'static str, event: Value) -> Result<Delivery<I>, Rejected> {
    Delivery::read(event).inspect_err(|rejected| {
        tracing::error!(
            error = %crate::error_chain(rejected),
            event_type = rejected.event_type(),
            "event rejected; it goes to the consumer's dead-letter queue for a redrive"
        );
        Metrics::new(service)
            .property("event_type", rejected.event_type().unwrap_or("unreadable"))
            .count(metric_names::EVENTS_REJECTED.name, 1)
            .emit();
    })
}

/// The Lambda runtime loop of a bus consumer: each event is read through the inbox `I` and
/// handed to `handler` inside a span that puts its type, id, sequence and correlation id on
/// every log line. A rejection or a handler error fails the invocation, so EventBridge retries
/// the event and finally parks it in the rule's dead-letter queue.
pub async fn run<I, H, F, E>(service: &'static str, handler: H) -> Result<(), lambda_runtime::Error>
where
    I: Inbox,
    H: Fn(Delivery<I>) -> F,
    F: Future<Output = Result<(), E>>,
    E: Error + Send + Sync + 'static,
{
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let delivery = receive::<I>(service, event.payload)?;
        let span = tracing::info_span!(
            "bus_message",
            event_type = %delivery.event_type,
            event_id = %delivery.event_id,
            sequence = delivery.sequence,
            correlation_id = %delivery.correlation_id,
        );
        async move {
            match handler(delivery).await {
                Ok(()) => {
                    tracing::info!("bus message handled");
                    Ok(())
                }
                Err(error) => {
                    tracing::error!(error = %crate::error_chain(&error), "bus message failed; EventBridge will retry it");
                    Err(lambda_runtime::Error::from(error))
                }
            }
        }
        .instrument(span)
        .await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    crate::inbox! {
        enum Choreography {
            ShipmentScheduled from "shop.shipping" { order_id: String, shipment_id: String },
            StockReleased from "shop.inventory" { order_id: String },
        }
    }

    fn event(event_type: &str, data: &Value) -> Value {
        let source = match event_type {
            "StockReleased" => "shop.inventory",
            _ => "shop.shipping",
        };
        json!({
            "version": "0",
            "id": "5f1c0b0e-0000-4000-8000-000000000001",
            "detail-type": event_type,
            "source": source,
            "time": "2026-11-27T10:00:00Z",
            "detail": {
                "event_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                "type": event_type,
                "version": 1,
                "occurred_at": "2026-11-27T10:00:00Z",
                "correlation_id": "o-1",
                "sequence": 1,
                "data": data,
            }
        })
    }

    #[test]
    fn the_inbox_lists_its_variants_and_their_publishers() {
        assert_eq!(Choreography::TYPES, ["ShipmentScheduled", "StockReleased"]);
        assert_eq!(Choreography::SOURCES, ["shop.shipping", "shop.inventory"]);
    }

    #[test]
    fn an_event_from_another_publisher_than_its_own_is_rejected() {
        let mut forged = event("StockReleased", &json!({"order_id": "o-1"}));
        forged["source"] = json!("shop.shipping");
        let rejected = Delivery::<Choreography>::read(forged).unwrap_err();
        assert!(
            matches!(
                &rejected,
                Rejected::ForeignSource {
                    expected: "shop.inventory",
                    ..
                }
            ),
            "{rejected}"
        );
        let mut unsigned = event("StockReleased", &json!({"order_id": "o-1"}));
        unsigned.as_object_mut().unwrap().remove("source");
        assert!(matches!(
            Delivery::<Choreography>::read(unsigned),
            Err(Rejected::ForeignSource { from: None, .. })
        ));
    }

    #[test]
    fn an_event_is_read_into_its_variant_with_the_envelope_around_it() {
        let delivery = Delivery::<Choreography>::read(event(
            "ShipmentScheduled",
            &json!({"order_id": "o-1", "shipment_id": "shp_1", "customer_id": "c-1"}),
        ))
        .unwrap();
        assert_eq!(delivery.sequence, 1);
        assert_eq!(delivery.correlation_id, "o-1");
        assert_eq!(delivery.event_type, "ShipmentScheduled");
        let Choreography::ShipmentScheduled {
            order_id,
            shipment_id,
        } = delivery.event
        else {
            panic!("{:?}", delivery.event);
        };
        assert_eq!((order_id.as_str(), shipment_id.as_str()), ("o-1", "shp_1"));
    }

    #[test]
    fn fields_a_later_schema_version_adds_are_accepted() {
        let delivery = Delivery::<Choreography>::read(event(
            "StockReleased",
            &json!({"order_id": "o-1", "lines": [], "warehouse": "north"}),
        ))
        .unwrap();
        assert!(
            matches!(delivery.event, Choreography::StockReleased { ref order_id } if order_id == "o-1")
        );
    }

    #[test]
    fn a_missing_field_is_a_rejection_never_an_empty_value() {
        let rejected =
            Delivery::<Choreography>::read(event("ShipmentScheduled", &json!({"order_id": "o-1"})))
                .unwrap_err();
        assert!(
            matches!(rejected, Rejected::Malformed { ref event_type, .. } if event_type == "ShipmentScheduled"),
            "{rejected}"
        );
        assert!(rejected.to_string().contains("shipment_id"), "{rejected}");

        let rejected =
            Delivery::<Choreography>::read(event("StockReleased", &json!({"order_id": 7})))
                .unwrap_err();
        assert!(matches!(rejected, Rejected::Malformed { .. }), "{rejected}");
    }

    #[test]
    fn a_type_the_inbox_does_not_take_is_a_rejection() {
        let rejected =
            Delivery::<Choreography>::read(event("OrderPlaced", &json!({"order_id": "o-1"})))
                .unwrap_err();
        assert!(matches!(rejected, Rejected::NotTaken { .. }), "{rejected}");
    }

    #[test]
    fn something_that_is_not_an_envelope_is_a_rejection() {
        for not_an_event in [
            json!({}),
            json!({"detail": {"type": "StockReleased", "data": {"order_id": "o-1"}}}),
            json!("StockReleased"),
        ] {
            let rejected = Delivery::<Choreography>::read(not_an_event).unwrap_err();
            assert!(matches!(rejected, Rejected::NotAnEnvelope(_)), "{rejected}");
        }
    }
}
