//! The CPU work of event sourcing, without the network: folding an order's history, and the
//! projector's per-record work (stream image → stored event → fold → view → item).
//! Compare runs with `cargo bench -p orders`.

#![allow(clippy::unwrap_used)]

use std::{collections::HashMap, hint::black_box};

use aws_sdk_dynamodb::types::AttributeValue;
use criterion::{Criterion, criterion_group, criterion_main};
use orders::{
    adapters::{OrderView, StoredEvent},
    domain::{Address, OrderEvent, OrderLine, Recorded, fold},
};
use time::OffsetDateTime;

fn placed() -> OrderEvent {
    OrderEvent::OrderPlaced {
        customer_id: "c-1".into(),
        lines: (0..5)
            .map(|n| OrderLine {
                product_id: format!("p-{n}"),
                sku: format!("SKU-{n}"),
                name: format!("Product {n}"),
                unit_price_cents: 1000 + n,
                quantity: 2,
            })
            .collect(),
        currency: "EUR".into(),
        total_cents: 10_020,
        shipping_address: Address {
            name: "Ada".into(),
            line1: "1 Main St".into(),
            line2: None,
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country: "DE".into(),
        },
        // As long as a KMS ciphertext of a short token is in base64.
        card_token_ciphertext: Some("A".repeat(200)),
    }
}

/// An order placed, then confirmed and shipped over and over: 1,000 events to fold.
fn history() -> Vec<Recorded> {
    let now = OffsetDateTime::now_utc();
    std::iter::once(placed())
        .chain((1..1000).map(|n| {
            if n % 2 == 1 {
                OrderEvent::OrderConfirmed {}
            } else {
                OrderEvent::OrderShipped {
                    shipment_id: format!("s-{n}"),
                }
            }
        }))
        .enumerate()
        .map(|(index, event)| Recorded {
            sequence: index as u64 + 1,
            occurred_at: now,
            event,
        })
        .collect()
}

fn stored(sequence: u64, event: &OrderEvent) -> StoredEvent {
    let json = serde_json::to_value(event).unwrap();
    StoredEvent {
        order_id: "o-1".into(),
        sequence,
        event_type: event.type_name().into(),
        data: json["data"].to_string(),
        occurred_at: OffsetDateTime::now_utc(),
        customer_id: "c-1".into(),
        correlation_id: "o-1".into(),
        causation_id: "r-1".into(),
    }
}

fn benches(c: &mut Criterion) {
    let events = history();
    c.bench_function("fold 1,000 events", |b| {
        b.iter(|| fold("o-1", black_box(&events)).unwrap());
    });

    // The projector's CPU per record: the stream image read, the order's history (here two
    // events) folded, and the view written as an item.
    let image: HashMap<String, AttributeValue> =
        serde_dynamo::to_item(stored(2, &OrderEvent::OrderConfirmed {})).unwrap();
    let earlier = stored(1, &placed());
    c.bench_function("projector work per stream record", |b| {
        b.iter(|| {
            let event: StoredEvent = serde_dynamo::from_item(black_box(image.clone())).unwrap();
            let history = [earlier.recorded().unwrap(), event.recorded().unwrap()];
            let order = fold(&event.order_id, &history).unwrap();
            let item: HashMap<String, AttributeValue> =
                serde_dynamo::to_item(OrderView::of(&order)).unwrap();
            black_box(item)
        });
    });
}

criterion_group!(event_sourcing, benches);
criterion_main!(event_sourcing);
