//! The orders API through its router, over DynamoDB on moto, with requests shaped as API
//! Gateway delivers them. The read model is fed by projecting the stored events, as the
//! stream would.

#![allow(clippy::unwrap_used)]

mod common;

use common::{DISCONTINUED, KETTLE, MUG, UNKNOWN};
use orders::{
    adapters::{CardTokenSealer, EventStore, ProductCopies, ReadModel},
    domain::OrderCommand,
    entrypoints::http,
    service::Orders,
};
use serde_json::{Value, json};
use shop_http::{PageRequest, pagination::encode_cursor};
use shop_observability::capture::CapturedLogs;
use shop_testkit::api::{ApiRequest, ApiResponse, As, send};

fn body() -> Value {
    json!({
        "items": [{"product_id": KETTLE, "quantity": 2}, {"product_id": MUG, "quantity": 1}],
        "payment": {"card_token": "tok_visa"},
        "shipping_address": {"name": "Ada", "line1": "1 Main St", "postal_code": "10115", "city": "Berlin", "country": "DE"}
    })
}

async fn place(app: &axum::Router, customer: &str, body: &Value, key: Option<&str>) -> ApiResponse {
    let mut request = ApiRequest::post("/orders")
        .caller(As::customer(customer))
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    send(app, &request).await
}

async fn get(app: &axum::Router, customer: &str, path: &str) -> ApiResponse {
    send(app, &ApiRequest::get(path).caller(As::customer(customer))).await
}

#[tokio::test]
async fn a_placed_order_is_pending_with_its_total_once_projected() {
    let setup = common::setup().await;
    let app = setup.router();
    let placed = place(&app, "c-1", &body(), None).await;
    assert_eq!(placed.status, 202, "{:#}", placed.body);
    assert_eq!(placed.body["status"], "PENDING");
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(placed.headers["location"], format!("/orders/{id}"));

    setup.project(&id).await;
    let order = get(&app, "c-1", &format!("/orders/{id}")).await;
    assert_eq!(order.status, 200);
    assert_eq!(order.body["status"], "PENDING");
    assert_eq!(order.body["total_cents"], 6897);
    assert_eq!(order.body["items"][0]["sku"], "KETTLE");
    assert!(order.body.get("card_token").is_none());

    let list = get(&app, "c-1", "/orders").await;
    assert_eq!(list.body["items"][0]["order_id"], id.as_str());
}

#[tokio::test]
async fn lines_address_and_payment_are_validated_field_by_field() {
    let setup = common::setup().await;
    let app = setup.router();
    let mut bad = body();
    bad["items"] = json!([{"product_id": DISCONTINUED, "quantity": 1}, {"product_id": UNKNOWN, "quantity": 0}]);
    bad["shipping_address"]["country"] = json!("Germany");
    bad["payment"]["card_token"] = json!("");
    let response = place(&app, "c-1", &bad, None).await;
    assert_eq!(response.status, 400, "{:#}", response.body);
    let fields: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "shipping_address.country",
            "payment.card_token",
            "items[0].product_id",
            "items[1].quantity",
            "items[1].product_id"
        ]
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_order_and_refuses_another_body() {
    let setup = common::setup().await;
    let app = setup.router();
    let first = place(&app, "c-1", &body(), Some("key-1")).await;
    let again = place(&app, "c-1", &body(), Some("key-1")).await;
    assert_eq!((first.status, again.status), (202, 202));
    assert_eq!(first.body["order_id"], again.body["order_id"]);

    let mut other = body();
    other["items"][0]["quantity"] = json!(3);
    let reused = place(&app, "c-1", &other, Some("key-1")).await;
    assert_eq!(reused.status, 422);
    // Keys are the customer's own: another customer's same key is a new order.
    let theirs = place(&app, "c-2", &body(), Some("key-1")).await;
    assert_ne!(theirs.body["order_id"], first.body["order_id"]);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_place_one_order() {
    let setup = common::setup().await;
    let app = setup.router();
    let body = body();
    let attempts = (0..5).map(|_| place(&app, "c-1", &body, Some("same-click")));
    let responses = futures::future::join_all(attempts).await;
    let ids: std::collections::HashSet<String> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, 202, "{:#}", r.body);
            r.body["order_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn another_customers_order_is_not_found_anywhere() {
    let setup = common::setup().await;
    let app = setup.router();
    let id = place(&app, "c-1", &body(), None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    setup.project(&id).await;
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{id}/events"),
        format!("/orders/{id}?as_of=1"),
    ] {
        assert_eq!(get(&app, "c-2", &path).await.status, 404, "{path}");
    }
    let cancel = send(
        &app,
        &ApiRequest::post(&format!("/orders/{id}/cancel")).caller(As::customer("c-2")),
    )
    .await;
    assert_eq!(cancel.status, 404);
    let admin = send(
        &app,
        &ApiRequest::get(&format!("/orders/{id}")).caller(As::admin()),
    )
    .await;
    assert_eq!(admin.status, 200, "admins see every order");
}

#[tokio::test]
async fn the_trail_and_as_of_replay_the_events() {
    let setup = common::setup().await;
    let app = setup.router();
    let id = place(&app, "c-1", &body(), None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    setup
        .orders
        .execute(&id, &OrderCommand::Confirm, "saga")
        .await
        .unwrap();
    setup
        .orders
        .execute(
            &id,
            &OrderCommand::Ship {
                shipment_id: "s-9".into(),
            },
            "shipping",
        )
        .await
        .unwrap();

    let trail = get(&app, "c-1", &format!("/orders/{id}/events")).await;
    let entries = trail.body.as_array().unwrap();
    let summary: Vec<(u64, &str)> = entries
        .iter()
        .map(|e| (e["sequence"].as_u64().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "OrderPlaced"),
            (2, "OrderConfirmed"),
            (3, "OrderShipped")
        ]
    );
    assert!(entries.iter().all(|e| e["correlation_id"] == id.as_str()));
    assert!(entries[0]["data"].get("card_token").is_none());
    assert!(entries[0]["data"].get("card_token_ciphertext").is_none());
    assert_eq!(entries[0]["data"]["total_cents"], 6897);

    for (n, status) in [(1, "PENDING"), (2, "CONFIRMED"), (3, "SHIPPED")] {
        let at = get(&app, "c-1", &format!("/orders/{id}?as_of={n}")).await;
        assert_eq!(
            (
                at.body["status"].as_str().unwrap(),
                at.body["version"].as_u64().unwrap()
            ),
            (status, n)
        );
    }
    assert_eq!(
        get(&app, "c-1", &format!("/orders/{id}?as_of=0"))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn only_a_confirmed_unshipped_order_can_be_cancelled() {
    let setup = common::setup().await;
    let app = setup.router();
    let cancel = |id: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                &ApiRequest::post(&format!("/orders/{id}/cancel")).caller(As::customer("c-1")),
            )
            .await
        }
    };
    let pending = place(&app, "c-1", &body(), None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cancel(pending.clone()).await.status, 409);

    setup
        .orders
        .execute(&pending, &OrderCommand::Confirm, "saga")
        .await
        .unwrap();
    let cancelled = cancel(pending.clone()).await;
    assert_eq!(cancelled.status, 202, "{:#}", cancelled.body);
    assert_eq!(cancelled.body["status"], "CANCELLED");

    let shipped = place(&app, "c-1", &body(), None).await.body["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    setup
        .orders
        .execute(&shipped, &OrderCommand::Confirm, "saga")
        .await
        .unwrap();
    setup
        .orders
        .execute(
            &shipped,
            &OrderCommand::Ship {
                shipment_id: "s".into(),
            },
            "ship",
        )
        .await
        .unwrap();
    let refused = cancel(shipped).await;
    assert_eq!(refused.status, 409);
    assert!(refused.body["detail"].as_str().unwrap().contains("SHIPPED"));
}

#[tokio::test]
async fn concurrent_cancels_of_an_order_cancel_it_once_and_never_fail() {
    let setup = common::setup().await;
    let app = setup.router();
    let id = setup.place("c-1").await;
    setup
        .orders
        .execute(&id, &OrderCommand::Confirm, "saga")
        .await
        .unwrap();
    let path = format!("/orders/{id}/cancel");
    let request = ApiRequest::post(&path).caller(As::customer("c-1"));
    let responses = futures::future::join_all((0..6).map(|_| send(&app, &request))).await;
    for response in &responses {
        // Losers of the race decide again and find the order cancelled (202), or answer 409
        // after losing too often; never a 500.
        assert!(
            [202, 409].contains(&response.status),
            "{} {:#}",
            response.status,
            response.body
        );
    }
    let trail = get(&app, "c-1", &format!("/orders/{id}/events")).await;
    let cancellations = trail.body.as_array().unwrap().iter();
    assert_eq!(
        cancellations
            .filter(|event| event["type"] == "OrderCancelled")
            .count(),
        1
    );
}

#[tokio::test]
async fn health_is_ok_without_a_token_when_the_tables_and_the_key_answer() {
    let app = common::setup().await.router();
    let response = send(&app, &ApiRequest::get("/orders/health")).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(
        response.body["checks"],
        json!({"event_store": "ok", "read_model": "ok", "product_copies": "ok", "card_token_key": "ok"})
    );
}

#[tokio::test]
async fn health_is_a_503_naming_the_check_when_a_table_is_missing() {
    let setup = common::setup().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&setup.config);
    let app = http::router(
        Orders {
            views: ReadModel::new(
                dynamodb,
                "never-created-views".to_owned(),
                "never-created-totals".to_owned(),
            ),
            ..setup.orders.clone()
        },
        setup.card_tokens.clone(),
    );
    let response = send(&app, &ApiRequest::get("/orders/health")).await;
    assert_eq!(response.status, 503, "{:#}", response.body);
    assert_eq!(response.body["status"], "unavailable");
    assert_eq!(response.body["checks"]["read_model"], "failed");
    assert_eq!(response.body["checks"]["event_store"], "ok");
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("orders", &http::openapi());
}

#[tokio::test(flavor = "current_thread")]
async fn no_address_card_or_free_text_reaches_the_logs_malformed_or_well_formed() {
    let setup = common::setup().await;
    let app = setup.router();
    let marker = format!("mk{}", uuid::Uuid::new_v4().simple());
    let address = json!({"name": marker, "line1": marker, "line2": marker, "postal_code": "10115", "city": marker, "country": "DE"});
    let well_formed = json!({
        "items": [{"product_id": KETTLE, "quantity": 2}],
        "payment": {"card_token": marker},
        "shipping_address": address
    });
    let everywhere = json!({
        "items": [{"product_id": marker, "quantity": marker, marker.as_str(): marker}],
        "payment": {"card_token": marker},
        "shipping_address": {"name": marker, "line1": marker, "line2": marker, "postal_code": marker, "city": marker, "country": marker},
        marker.as_str(): marker
    });

    let (captured, _guard) = CapturedLogs::start();
    let placed = place(&app, "c-1", &well_formed, None).await;
    assert_eq!(placed.status, 202, "{:#}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    setup.project(&id).await;
    assert_eq!(place(&app, "c-1", &everywhere, None).await.status, 400);
    for body in [&well_formed, &everywhere] {
        let malformed = format!("{body},");
        let request = ApiRequest::post("/orders")
            .caller(As::customer("c-1"))
            .raw_body("application/json", &malformed);
        assert_eq!(send(&app, &request).await.status, 400);
    }
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{id}/events"),
        "/orders".to_owned(),
    ] {
        assert_eq!(get(&app, "c-1", &path).await.status, 200);
    }

    let output = captured.output();
    assert!(!output.contains(&marker), "{output}");
    assert_eq!(captured.access_lines().len(), 7, "{output}");
    assert!(output.contains(&id), "the order id is logged");
}

/// The orders router over a DynamoDB and a KMS that cannot be reached: any lookup would be a
/// 500, so a 400 or 404 from it was decided before any I/O.
async fn without_dynamodb() -> axum::Router {
    let config = shop_testkit::Moto::shared().sdk_config().await;
    let unreachable = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(unreachable);
    let kms = aws_sdk_kms::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let table = || "unreachable".to_owned();
    http::router(
        Orders {
            store: EventStore::new(client.clone(), table(), table()),
            views: ReadModel::new(client.clone(), table(), table()),
            products: ProductCopies::new(client, table()),
        },
        CardTokenSealer::new(aws_sdk_kms::Client::from_conf(kms), table()),
    )
}

fn fields_at_fault(response: &ApiResponse) -> Vec<&str> {
    response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn too_many_lines_or_malformed_ids_are_refused_before_any_lookup() {
    let app = without_dynamodb().await;
    let mut many = body();
    many["items"] = (0..800)
        .map(|_| json!({"product_id": uuid::Uuid::new_v4().to_string(), "quantity": 1}))
        .collect();
    let refused = place(&app, "c-1", &many, Some("key-1")).await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
    assert_eq!(fields_at_fault(&refused), ["items"]);

    let mut malformed = body();
    malformed["items"][1]["product_id"] = json!("x".repeat(1000));
    let refused = place(&app, "c-1", &malformed, None).await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
    assert_eq!(fields_at_fault(&refused), ["items[1].product_id"]);
}

#[tokio::test]
async fn control_characters_in_the_address_and_a_long_card_token_are_refused() {
    let app = without_dynamodb().await;
    let mut bad = body();
    bad["shipping_address"]["name"] = json!("Ada\u{1b}[2J");
    bad["shipping_address"]["line2"] = json!("Flat 1\nForged line");
    bad["payment"]["card_token"] = json!("t".repeat(129));
    // The lines are malformed too, so nothing is looked up.
    bad["items"][0]["product_id"] = json!("p-kettle");
    let refused = place(&app, "c-1", &bad, None).await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
    assert_eq!(
        fields_at_fault(&refused),
        [
            "shipping_address.name",
            "shipping_address.line2",
            "payment.card_token",
            "items[0].product_id"
        ]
    );
}

#[tokio::test]
async fn an_order_id_that_is_not_a_uuid_is_a_404_without_a_lookup() {
    let app = without_dynamodb().await;
    for path in ["/orders/p-1", "/orders/p-1/events", "/orders/p-1?as_of=1"] {
        assert_eq!(get(&app, "c-1", path).await.status, 404, "{path}");
    }
    let cancel = ApiRequest::post("/orders/p-1/cancel").caller(As::customer("c-1"));
    assert_eq!(send(&app, &cancel).await.status, 404);
}

#[tokio::test]
async fn a_cursor_naming_another_customers_orders_is_a_400() {
    let setup = common::setup().await;
    let app = setup.router();
    for customer in ["c-1", "c-2"] {
        for _ in 0..2 {
            let id = setup.place(customer).await;
            setup.project(&id).await;
        }
    }
    let first = get(&app, "c-1", "/orders?limit=1").await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let next = get(&app, "c-1", &format!("/orders?limit=1&cursor={cursor}")).await;
    assert_eq!(next.status, 200, "{:#}", next.body);

    let mut position: serde_json::Map<String, Value> = PageRequest {
        limit: None,
        cursor: Some(cursor.to_owned()),
    }
    .position()
    .unwrap()
    .unwrap();
    position.insert("customer_id".into(), json!("c-2"));
    let tampered = encode_cursor(&position);
    let refused = get(&app, "c-1", &format!("/orders?cursor={tampered}")).await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
    assert_eq!(fields_at_fault(&refused), ["cursor"]);

    position.remove("placed_key");
    let incomplete = encode_cursor(&position);
    let refused = get(&app, "c-2", &format!("/orders?cursor={incomplete}")).await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
}
