//! The gateway's JWT authorizer against forged, expired and foreign tokens: every one is a
//! 401 before any function runs.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use system_tests::{mint_token, now, system};

/// Claims of a valid access token of the system's pool and client.
fn access_claims() -> Value {
    let system = system();
    json!({
        "sub": "0d3c2b1a-1111-4222-8333-944455556666",
        "iss": system.issuer(),
        "client_id": system.user_pool_client_id,
        "token_use": "access",
        "cognito:groups": ["admin"],
        "iat": now(),
        "exp": now() + 600,
    })
}

async fn create_with(authorization: Option<String>) -> (u16, Value) {
    let mut request = system()
        .http()
        .post(system().url("/products"))
        .json(&json!({"sku": "AUTH-1", "name": "x", "price_cents": 1, "currency": "EUR"}));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn assert_refused(authorization: Option<String>) {
    let (status, body) = create_with(authorization).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["message"], "Unauthorized");
}

#[tokio::test]
async fn a_token_minted_with_the_pools_key_and_right_claims_is_accepted() {
    // The control case: the forgeries below differ from this token in one way each.
    let token = mint_token(&access_claims(), false);
    let (status, body) = create_with(Some(format!("Bearer {token}"))).await;
    assert_ne!(status, 401, "{body}");
}

#[tokio::test]
async fn a_missing_token_is_refused() {
    assert_refused(None).await;
    assert_refused(Some(String::new())).await;
}

#[tokio::test]
async fn garbage_is_refused() {
    assert_refused(Some("Bearer not.a.jwt".into())).await;
    assert_refused(Some("Bearer ".into())).await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let mut claims = access_claims();
    claims["exp"] = json!(now() - 5);
    assert_refused(Some(format!("Bearer {}", mint_token(&claims, false)))).await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    assert_refused(Some(format!(
        "Bearer {}",
        mint_token(&access_claims(), true)
    )))
    .await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let mut claims = access_claims();
    claims["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_someoneelse");
    assert_refused(Some(format!("Bearer {}", mint_token(&claims, false)))).await;
}

#[tokio::test]
async fn a_token_for_another_client_is_refused() {
    let mut claims = access_claims();
    claims["client_id"] = json!("another-app-client");
    assert_refused(Some(format!("Bearer {}", mint_token(&claims, false)))).await;
    let mut id_claims = access_claims();
    id_claims.as_object_mut().unwrap().remove("client_id");
    id_claims["token_use"] = json!("id");
    id_claims["aud"] = json!("another-app-client");
    assert_refused(Some(format!("Bearer {}", mint_token(&id_claims, false)))).await;
}

#[tokio::test]
async fn a_token_of_an_unexpected_use_is_refused() {
    let mut claims = access_claims();
    claims["token_use"] = json!("refresh");
    assert_refused(Some(format!("Bearer {}", mint_token(&claims, false)))).await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let token = format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "typ": "JWT"})),
        encode(&access_claims())
    );
    assert_refused(Some(format!("Bearer {token}"))).await;
}
