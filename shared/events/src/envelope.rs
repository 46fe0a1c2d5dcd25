//! The envelope of every integration event (the `detail` of an EventBridge event).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// Namespace of the deterministic event ids (UUID v5).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5b0e_2a1c_9d4f_4e8b_a6c3_1f7d_0e92_b417);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique per event and stable across redeliveries: consumers deduplicate on it.
    pub event_id: Uuid,
    /// The event name, also the EventBridge `detail-type`, e.g. `ProductCreated`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Version of the event's schema in `events/schemas/`.
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Ties together everything caused by one request (for orders: the order id).
    pub correlation_id: String,
    /// The id of the event or request that caused this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// The aggregate's version after this change: per-aggregate order for consumers.
    pub sequence: u64,
    pub data: Value,
}

impl Envelope {
    /// The id of the event that announces version `sequence` of an aggregate. Deriving it
    /// from the aggregate instead of drawing a random one makes a republished change
    /// (stream retries, replays) carry the same id, so consumers can drop the duplicate.
    pub fn event_id_for(source: &str, aggregate_id: &str, sequence: u64) -> Uuid {
        Uuid::new_v5(
            &EVENT_ID_NAMESPACE,
            format!("{source}/{aggregate_id}/{sequence}").as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_per_aggregate_version() {
        let a = Envelope::event_id_for("shop.catalog", "p-1", 3);
        assert_eq!(a, Envelope::event_id_for("shop.catalog", "p-1", 3));
        assert_ne!(a, Envelope::event_id_for("shop.catalog", "p-1", 4));
        assert_ne!(a, Envelope::event_id_for("shop.orders", "p-1", 3));
    }

    #[test]
    fn the_wire_form_uses_type_and_rfc3339_time() {
        let envelope = Envelope {
            event_id: Envelope::event_id_for("shop.catalog", "p-1", 1),
            event_type: "ProductCreated".into(),
            version: 1,
            occurred_at: time::macros::datetime!(2026-11-27 10:00:00 UTC),
            correlation_id: "c-1".into(),
            causation_id: None,
            sequence: 1,
            data: serde_json::json!({"product_id": "p-1"}),
        };
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["type"], "ProductCreated");
        assert_eq!(json["occurred_at"], "2026-11-27T10:00:00Z");
        assert!(json.get("causation_id").is_none());
        assert_eq!(serde_json::from_value::<Envelope>(json).unwrap(), envelope);
    }
}
