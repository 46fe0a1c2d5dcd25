//! The catalog's request path without the network: API Gateway event → lambda_http request →
//! router (access log, identity, JSON body, validation) → problem+json; domain validation;
//! serialising a page of products. Compare runs with `cargo bench -p catalog`.

#![allow(clippy::unwrap_used)]

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use catalog::{
    adapters::ProductTable,
    domain::{Product, ProductInput},
    entrypoints::http::{self, ProductView},
    service::Catalog,
};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use shop_http::Page;
use shop_testkit::api::{ApiRequest, As, send};
use std::hint::black_box;

fn valid_input() -> ProductInput {
    ProductInput {
        sku: Some("KETTLE-1L".into()),
        name: Some("Kettle, 1 litre".into()),
        description: Some("Boils a litre in two minutes.".into()),
        price_cents: Some(2999),
        currency: Some("EUR".into()),
    }
}

/// A router whose store is never reached: every benchmarked request is answered before it.
fn offline_router() -> axum::Router {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let table = ProductTable::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        "p".into(),
        "s".into(),
    );
    http::router(Catalog::new(table))
}

fn benches(c: &mut Criterion) {
    shop_observability::metrics::disable();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let router = offline_router();

    c.bench_function("validate a new product", |b| {
        b.iter(|| black_box(valid_input()).validate_new().unwrap());
    });

    let (sku, details) = valid_input().validate_new().unwrap();
    let product = Product::create(
        uuid::Uuid::nil(),
        sku,
        details,
        time::OffsetDateTime::UNIX_EPOCH,
    );
    let page = Page {
        items: (0..100)
            .map(|_| ProductView::from(product.clone()))
            .collect::<Vec<_>>(),
        next_cursor: Some("eyJhZnRlciI6IjAwMDAifQ".into()),
    };
    c.bench_function("serialise a page of 100 products", |b| {
        b.iter(|| serde_json::to_vec(black_box(&page)).unwrap());
    });

    let invalid = ApiRequest::post("/products")
        .caller(As::admin())
        .json(&json!({"sku": "bad sku", "name": "", "price_cents": 0, "currency": "euro"}));
    c.bench_function("route and refuse an invalid create (400)", |b| {
        b.iter(|| runtime.block_on(send(&router, black_box(&invalid))));
    });

    let forbidden = ApiRequest::post("/products")
        .caller(As::customer("c-1"))
        .json(&json!({"sku": "KETTLE-1L"}));
    c.bench_function("route and refuse a customer's create (403)", |b| {
        b.iter(|| runtime.block_on(send(&router, black_box(&forbidden))));
    });
}

criterion_group!(request_path, benches);
criterion_main!(request_path);
