//! The catalog through the public HTTP API, with real Cognito tokens.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use system_tests::system;

async fn get(path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = system().http().get(system().url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn post(path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = system().http().post(system().url(path)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn lamp(sku: &str) -> Value {
    json!({"sku": sku, "name": "Desk lamp", "price_cents": 4500, "currency": "EUR"})
}

#[tokio::test]
async fn anyone_lists_the_seeded_products() {
    let (status, page) = get("/products?limit=100", None).await;
    assert_eq!(status, 200);
    let skus: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    for seeded in ["KETTLE-1L", "MUG-CERAMIC", "TEA-GREEN-100G"] {
        assert!(skus.contains(&seeded), "{skus:?}");
    }
}

#[tokio::test]
async fn an_admin_creates_a_product_that_anyone_then_reads() {
    let sku = format!("LAMP-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let (status, created) = post("/products", Some(&system().admin_token), &lamp(&sku)).await;
    assert_eq!(status, 201, "{created}");
    let (status, read) = get(
        &format!("/products/{}", created["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["sku"], sku.as_str());
}

/// devstack serves one gateway router on two listeners: HTTPS, which every test here uses, and
/// plain HTTP, which the stack's own functions are given. Both must answer alike.
#[tokio::test]
async fn devstack_answers_the_same_over_https_and_plain_http() {
    let system = system();
    assert_ne!(
        system.published_api_url, system.api_url,
        "devstack only: a stage has one HTTPS URL and no plain-HTTP listener"
    );
    assert!(system.api_url.starts_with("https://"), "{}", system.api_url);
    assert!(
        system.published_api_url.starts_with("http://"),
        "{}",
        system.published_api_url
    );
    let sku = format!("TLS-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let (status, created) = post("/products", Some(&system.admin_token), &lamp(&sku)).await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/products/{}", created["id"].as_str().unwrap());
    let (status, over_tls) = get(&path, None).await;
    assert_eq!(status, 200, "{over_tls}");
    let over_plain: Value = system
        .http()
        .get(format!("{}{path}", system.published_api_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_plain, over_tls);
}

#[tokio::test]
async fn a_customer_token_is_refused_on_admin_routes_with_403() {
    let (status, problem) = post(
        "/products",
        Some(&system().customer_token),
        &lamp("CUST-LAMP-1"),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["type"], "/problems/forbidden");
}

#[tokio::test]
async fn every_response_echoes_the_correlation_id() {
    let response = system()
        .http()
        .get(system().url("/products"))
        .header("x-correlation-id", "system-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-correlation-id"], "system-test-42");
}

#[tokio::test]
async fn the_gateway_answers_cors_preflights_as_the_template_says() {
    let response = system()
        .http()
        .request(reqwest::Method::OPTIONS, system().url("/products"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(
        response.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
}

#[tokio::test]
async fn an_unknown_route_is_the_gateways_404() {
    let (status, body) = get("/nothing-here", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Not Found");
}

#[tokio::test]
async fn the_gateway_refuses_payloads_over_ten_megabytes() {
    let response = system()
        .http()
        .post(system().url("/products"))
        .bearer_auth(&system().admin_token)
        .header("content-type", "application/json")
        .body(vec![b' '; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Request Entity Too Large");
}

/// A call to SSM through the edge (JSON protocol, no SDK client).
async fn ssm(operation: &str, body: &Value) -> Value {
    let system = system();
    system
        .http()
        .post(system.edge())
        .header("authorization", devstack::emulator::scope_header("ssm"))
        .header("x-amz-target", format!("AmazonSSM.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .expect("SSM answers")
        .json()
        .await
        .expect("JSON")
}

/// Service discovery: the stack publishes its endpoints and resource names as SSM parameters
/// under `/shop/<stage>/<service>/`, for people and other stacks (devstack creates them in
/// moto as CloudFormation would; the local API URL stands for the invoke URL).
#[tokio::test]
async fn every_service_publishes_its_endpoints_and_names_under_the_stage_path() {
    let system = system();
    let mut published = std::collections::BTreeMap::new();
    let mut request = json!({"Path": "/shop/local/", "Recursive": true, "MaxResults": 10});
    loop {
        let page = ssm("GetParametersByPath", &request).await;
        for parameter in page["Parameters"].as_array().expect("parameters") {
            published.insert(
                parameter["Name"].as_str().unwrap_or_default().to_owned(),
                parameter["Value"].as_str().unwrap_or_default().to_owned(),
            );
        }
        match page["NextToken"].as_str() {
            Some(token) => request["NextToken"] = json!(token),
            None => break,
        }
    }
    assert_eq!(
        published.get("/shop/local/api/url"),
        Some(&system.published_api_url),
        "{published:#?}"
    );
    assert_eq!(
        published.get("/shop/local/auth/user-pool-id"),
        Some(&system.user_pool_id)
    );
    for service in [
        "auth",
        "catalog",
        "orders",
        "inventory",
        "payments",
        "shipping",
    ] {
        assert!(
            published
                .keys()
                .any(|name| name.starts_with(&format!("/shop/local/{service}/"))),
            "{service} publishes nothing: {published:#?}"
        );
    }
}
