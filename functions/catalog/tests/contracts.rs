//! The event contracts: what the catalog emits satisfies `events/schemas/`, and every sample
//! in `events/samples/` is what its trigger really delivers.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::dynamodb::Event;
use catalog::entrypoints::stream::ProductEvents;
use serde_json::Value;
use shop_events::StreamMapper;
use shop_testkit::{schemas, workspace_root};

fn sample(name: &str) -> String {
    let path = workspace_root().join("events/samples").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn samples_named(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("events/samples"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no samples named {prefix}*");
    names
}

fn stream_sample_events() -> Vec<Value> {
    let event: Event =
        serde_json::from_str(&sample("catalog-publisher.product-stream.json")).unwrap();
    event
        .records
        .iter()
        .map(|record| {
            let envelope = ProductEvents
                .map(record)
                .unwrap()
                .expect("every record is an event");
            serde_json::to_value(envelope).unwrap()
        })
        .collect()
}

#[test]
fn the_events_mapped_from_the_stream_sample_satisfy_their_schemas() {
    let events = stream_sample_events();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["ProductCreated", "ProductUpdated", "ProductDiscontinued"]
    );
    for event in &events {
        schemas::assert_valid(event);
    }
}

#[test]
fn the_eventbridge_samples_are_what_the_publisher_emits_for_the_stream_sample() {
    let emitted = stream_sample_events();
    let samples = samples_named("eventbridge.catalog-");
    assert_eq!(samples.len(), emitted.len());
    for (name, detail) in samples.iter().zip(&emitted) {
        let delivered: Value = serde_json::from_str(&sample(name)).unwrap();
        assert_eq!(delivered["source"], "shop.catalog", "{name}");
        assert_eq!(delivered["detail-type"], detail["type"], "{name}");
        assert_eq!(&delivered["detail"], detail, "{name}");
    }
}

#[test]
fn a_detail_that_breaks_its_contract_is_refused() {
    let mut event = stream_sample_events().remove(0);
    event.as_object_mut().unwrap().remove("correlation_id");
    event["data"]["price_cents"] = 0.into();
    let errors = schemas::validator("ProductCreated")
        .iter_errors(&event)
        .count();
    assert!(
        errors >= 2,
        "missing correlation_id and a zero price must both be reported"
    );
}

#[test]
fn every_http_sample_is_an_api_gateway_request_lambda_http_accepts() {
    for name in samples_named("catalog-http.") {
        let request = lambda_http::request::from_str(&sample(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(request.uri().path().starts_with("/products"), "{name}");
    }
}
