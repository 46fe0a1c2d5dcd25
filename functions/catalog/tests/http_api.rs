//! The catalog's HTTP API against DynamoDB on moto, through the router the Lambda serves,
//! with requests shaped as API Gateway delivers them.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use axum::{Router, http::Method};
use catalog::{adapters::ProductTable, entrypoints::http, service::Catalog};

use serde_json::{Value, json};
use shop_http::pagination::encode_cursor;
use shop_observability::capture::CapturedLogs;
use shop_testkit::{
    Moto,
    api::{ApiRequest, ApiResponse, As, send},
    template, unique_name,
};

async fn catalog() -> Router {
    let config = Moto::shared().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let products = unique_name("products");
    let skus = unique_name("skus");
    template::create_table(&client, "ProductsTable", &products).await;
    template::create_table(&client, "SkusTable", &skus).await;
    let table = ProductTable::new(client, products, skus);
    table.connect().await.expect("tables exist");
    http::router(Catalog::new(table))
}

fn kettle(sku: &str) -> Value {
    json!({
        "sku": sku,
        "name": "Kettle",
        "description": "Boils a litre in two minutes.",
        "price_cents": 2999,
        "currency": "EUR"
    })
}

async fn create(app: &Router, body: &Value) -> ApiResponse {
    send(
        app,
        &ApiRequest::post("/products").caller(As::admin()).json(body),
    )
    .await
}

fn assert_problem(response: &ApiResponse, status: u16) {
    assert_eq!(response.status, status, "{:#}", response.body);
    assert_eq!(response.headers["content-type"], "application/problem+json");
    assert_eq!(response.body["status"], status);
    assert!(response.body["correlation_id"].is_string());
}

#[tokio::test]
async fn an_admin_creates_a_product_that_anyone_can_read() {
    let app = catalog().await;
    let created = create(&app, &kettle("KET-1")).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(created.headers["location"], format!("/products/{id}"));
    assert_eq!(created.body["status"], "ACTIVE");
    assert_eq!(created.body["version"], 1);

    let read = send(&app, &ApiRequest::get(&format!("/products/{id}"))).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["sku"], "KET-1");
    assert_eq!(read.body["price_cents"], 2999);
    assert_eq!(read.body["created_at"], created.body["created_at"]);
}

#[tokio::test]
async fn the_list_pages_through_every_active_product_once() {
    let app = catalog().await;
    for n in 0..5 {
        assert_eq!(
            create(&app, &kettle(&format!("PAGE-{n}"))).await.status,
            201
        );
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/products?limit=2&cursor={cursor}"),
            None => "/products?limit=2".to_owned(),
        };
        let page = send(&app, &ApiRequest::get(&path)).await;
        assert_eq!(page.status, 200, "{:#}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["sku"].as_str().unwrap().to_owned()));
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["PAGE-0", "PAGE-1", "PAGE-2", "PAGE-3", "PAGE-4"]);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn an_update_replaces_the_details_as_a_new_version() {
    let app = catalog().await;
    let id = create(&app, &kettle("UPD-1")).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = json!({"name": "Kettle 2", "price_cents": 1999, "currency": "EUR"});
    let updated = send(
        &app,
        &ApiRequest::put(&format!("/products/{id}"))
            .caller(As::admin())
            .json(&change),
    )
    .await;
    assert_eq!(updated.status, 200, "{:#}", updated.body);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["name"], "Kettle 2");
    assert_eq!(updated.body["description"], "");
    assert_eq!(updated.body["sku"], "UPD-1");

    let read = send(&app, &ApiRequest::get(&format!("/products/{id}"))).await;
    assert_eq!(read.body["price_cents"], 1999);
}

#[tokio::test]
async fn the_sku_cannot_be_changed_by_an_update() {
    let app = catalog().await;
    let id = create(&app, &kettle("FIX-1")).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = send(
        &app,
        &ApiRequest::put(&format!("/products/{id}"))
            .caller(As::admin())
            .json(&kettle("FIX-2")),
    )
    .await;
    assert_problem(&response, 400);
    assert!(response.body["detail"].as_str().unwrap().contains("sku"));
}

#[tokio::test]
async fn a_discontinued_product_is_readable_but_not_listed_or_changeable() {
    let app = catalog().await;
    let id = create(&app, &kettle("OLD-1")).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/products/{id}");
    let gone = send(&app, &ApiRequest::delete(&path).caller(As::admin())).await;
    assert_eq!(gone.status, 204);

    let read = send(&app, &ApiRequest::get(&path)).await;
    assert_eq!(read.body["status"], "DISCONTINUED");
    assert_eq!(read.body["version"], 2);
    let list = send(&app, &ApiRequest::get("/products")).await;
    assert_eq!(list.body["items"], json!([]));

    let again = send(&app, &ApiRequest::delete(&path).caller(As::admin())).await;
    assert_eq!(again.status, 204);
    assert_eq!(send(&app, &ApiRequest::get(&path)).await.body["version"], 2);

    let change = json!({"name": "Back", "price_cents": 1, "currency": "EUR"});
    let update = send(
        &app,
        &ApiRequest::put(&path).caller(As::admin()).json(&change),
    )
    .await;
    assert_problem(&update, 409);
}

#[tokio::test]
async fn a_duplicate_sku_is_a_conflict_even_when_created_concurrently() {
    let app = catalog().await;
    let attempts = (0..6).map(|_| {
        let app = app.clone();
        async move { create(&app, &kettle("DUP-1")).await }
    });
    let responses = futures::future::join_all(attempts).await;
    let created = responses.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1);
    for response in responses.iter().filter(|r| r.status != 201) {
        assert_problem(response, 409);
        assert!(response.body["detail"].as_str().unwrap().contains("DUP-1"));
    }
}

#[tokio::test]
async fn invalid_fields_are_a_400_naming_each_field() {
    let app = catalog().await;
    let body = json!({"sku": "bad sku", "name": "", "price_cents": 0, "currency": "euro"});
    let response = create(&app, &body).await;
    assert_problem(&response, 400);
    let fields: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["sku", "name", "price_cents", "currency"]);
    let detail = response.body["detail"].as_str().unwrap();
    for field in fields {
        assert!(detail.contains(field), "{detail}");
    }
}

#[tokio::test]
async fn a_customer_may_read_but_not_write() {
    let app = catalog().await;
    let id = create(&app, &kettle("CUS-1")).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/products/{id}");
    let customer = As::customer("customer-1");
    let change = json!({"name": "Mine", "price_cents": 1, "currency": "EUR"});
    for request in [
        ApiRequest::post("/products").json(&kettle("CUS-2")),
        ApiRequest::put(&path).json(&change),
        ApiRequest::delete(&path),
    ] {
        assert_problem(&send(&app, &request.caller(customer.clone())).await, 403);
    }
    let read = send(&app, &ApiRequest::get(&path).caller(customer)).await;
    assert_eq!(read.status, 200);
}

#[tokio::test]
async fn writes_without_an_identity_are_a_401() {
    let app = catalog().await;
    let response = send(&app, &ApiRequest::post("/products").json(&kettle("ANON-1"))).await;
    assert_problem(&response, 401);
    let response = send(&app, &ApiRequest::delete("/products/any")).await;
    assert_problem(&response, 401);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = catalog().await;
    let request = ApiRequest::post("/products")
        .caller(As::admin())
        .raw_body("application/json", r#"{"sku": "KET-1", "#);
    assert_problem(&send(&app, &request).await, 400);
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_400_naming_it() {
    let app = catalog().await;
    let mut body = kettle("TYPE-1");
    body["price_cents"] = json!("29.99");
    let response = create(&app, &body).await;
    assert_problem(&response, 400);
    assert!(
        response.body["detail"]
            .as_str()
            .unwrap()
            .contains("price_cents")
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = catalog().await;
    let request = ApiRequest::post("/products")
        .caller(As::admin())
        .raw_body("text/plain", "sku=KET-1");
    assert_problem(&send(&app, &request).await, 415);
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = catalog().await;
    let mut body = kettle("BIG-1");
    body["description"] = json!("x".repeat(shop_http::MAX_BODY_BYTES));
    assert_problem(&create(&app, &body).await, 413);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_a_404() {
    let app = catalog().await;
    let unknown = format!("/products/{}", uuid::Uuid::new_v4());
    assert_problem(&send(&app, &ApiRequest::get(&unknown)).await, 404);
    assert_problem(
        &send(&app, &ApiRequest::get("/products/not-a-uuid")).await,
        404,
    );
    let change = json!({"name": "X", "price_cents": 1, "currency": "EUR"});
    let update = ApiRequest::put(&unknown).caller(As::admin()).json(&change);
    assert_problem(&send(&app, &update).await, 404);
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_a_400() {
    let app = catalog().await;
    assert_problem(
        &send(&app, &ApiRequest::get("/products?limit=0")).await,
        400,
    );
    assert_problem(
        &send(&app, &ApiRequest::get("/products?limit=many")).await,
        400,
    );
    assert_problem(
        &send(&app, &ApiRequest::get("/products?cursor=forged")).await,
        400,
    );
}

#[tokio::test]
async fn responses_echo_the_callers_correlation_id() {
    let app = catalog().await;
    let request = ApiRequest::get("/products/nothing").header("x-correlation-id", "trace-me-42");
    let response = send(&app, &request).await;
    assert_eq!(response.headers["x-correlation-id"], "trace-me-42");
    assert_eq!(response.body["correlation_id"], "trace-me-42");
}

#[tokio::test]
async fn health_is_ok_without_a_token_when_the_tables_answer() {
    let app = catalog().await;
    let response = send(&app, &ApiRequest::get("/catalog/health")).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(response.body["status"], "ok");
    assert_eq!(response.body["checks"], json!({"product_tables": "ok"}));
}

#[tokio::test]
async fn health_is_a_503_naming_the_check_when_a_table_is_missing() {
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    let products = unique_name("products");
    template::create_table(&client, "ProductsTable", &products).await;
    let missing = unique_name("never-created");
    let app = http::router(Catalog::new(ProductTable::new(
        client,
        products,
        missing.clone(),
    )));
    let response = send(&app, &ApiRequest::get("/catalog/health")).await;
    assert_eq!(response.status, 503, "{:#}", response.body);
    assert_eq!(response.body["status"], "unavailable");
    assert_eq!(response.body["checks"], json!({"product_tables": "failed"}));
    assert!(
        !response.body.to_string().contains(&missing),
        "{}",
        response.body
    );
}

/// Every operation in the OpenAPI document is served, and a documented path answers no
/// method the document does not list: the spec and the router describe the same API.
#[tokio::test]
async fn the_openapi_document_and_the_router_serve_the_same_routes() {
    let app = catalog().await;
    let spec = serde_json::to_value(http::openapi()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, operations) in paths {
        let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        for method in ["get", "post", "put", "delete", "patch"] {
            let request = ApiRequest::new(method.to_uppercase().parse().unwrap(), &concrete);
            let response = send(&app, &request).await;
            let unrouted = response.status == 405
                || (response.status == 404 && response.body["detail"] == "no such resource");
            let documented = operations.get(method).is_some();
            assert_eq!(
                !unrouted,
                documented,
                "{} {path}: served = {}, documented = {documented}",
                method.to_uppercase(),
                !unrouted
            );
        }
    }
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("catalog", &http::openapi());
}

#[tokio::test(flavor = "current_thread")]
async fn only_public_product_fields_reach_the_logs_malformed_or_well_formed() {
    let app = catalog().await;
    let marker = format!("mk{}", uuid::Uuid::new_v4().simple());
    let sku = unique_name("LOG").to_uppercase();
    let product = json!({
        "sku": sku,
        "name": "Kettle",
        "description": marker,
        "price_cents": 2999,
        "currency": "EUR"
    });
    let (captured, _guard) = CapturedLogs::start();
    let created = create(&app, &product).await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let bodies = [
        (
            Method::POST,
            "/products".to_owned(),
            json!({"sku": "X", "name": "Y", "description": marker, marker.as_str(): marker}),
        ),
        (
            Method::POST,
            "/products".to_owned(),
            json!({"sku": "X", "name": "Y", "price_cents": marker, "currency": "EUR"}),
        ),
        (
            Method::PUT,
            format!("/products/{id}"),
            json!({"name": "Kettle", "description": marker, "price_cents": 2999, "currency": "EUR"}),
        ),
        (Method::PUT, format!("/products/{id}"), product.clone()),
    ];
    for (method, path, body) in &bodies {
        let request = ApiRequest::new(method.clone(), path).caller(As::admin());
        send(&app, &request.clone().json(body)).await;
        let malformed = format!("{body},");
        send(&app, &request.raw_body("application/json", &malformed)).await;
    }
    send(&app, &ApiRequest::get(&format!("/products/{id}"))).await;
    send(&app, &ApiRequest::get("/products?limit=100")).await;

    let output = captured.output();
    assert_eq!(captured.access_lines().len(), 11, "{output}");
    assert!(!output.contains(&marker), "{output}");
    assert!(output.contains(&sku), "a product's SKU is logged");
}

#[tokio::test]
async fn one_list_request_reads_a_bounded_part_of_the_table() {
    let app = catalog().await;
    for n in 0..10 {
        let id = create(&app, &kettle(&format!("GONE-{n}"))).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/products/{id}");
        let gone = send(&app, &ApiRequest::delete(&path).caller(As::admin())).await;
        assert_eq!(gone.status, 204);
    }

    // Four scans of one item each: a short page and a cursor, not a read of all ten.
    let first = send(&app, &ApiRequest::get("/products?limit=1")).await;
    assert_eq!(first.status, 200, "{:#}", first.body);
    assert_eq!(first.body["items"], json!([]));
    let mut pages = 1;
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_owned);
    assert!(
        cursor.is_some(),
        "the scan budget ran out before the table did"
    );
    while let Some(next) = cursor {
        let page = send(
            &app,
            &ApiRequest::get(&format!("/products?limit=1&cursor={next}")),
        )
        .await;
        assert_eq!(page.body["items"], json!([]));
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert!(
        pages >= 3,
        "ten items at four per request take three requests"
    );
    assert_problem(
        &send(&app, &ApiRequest::get("/products?limit=101")).await,
        400,
    );
}

#[tokio::test]
async fn a_cursor_of_another_shape_is_a_400() {
    let app = catalog().await;
    let id = uuid::Uuid::new_v4();
    for position in [
        json!({"after": id, "sku": "KET-1"}),
        json!({"after": "KET-1"}),
        json!({"id": id}),
    ] {
        let cursor = encode_cursor(&position);
        let response = send(
            &app,
            &ApiRequest::get(&format!("/products?cursor={cursor}")),
        )
        .await;
        assert_problem(&response, 400);
        assert_eq!(response.body["errors"][0]["field"], "cursor");
    }
}
