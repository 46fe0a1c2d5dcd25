//! The auth service over HTTP on devstack: sign-up to refresh, the one 401 for every failed
//! login, lockout and recovery (also under concurrent guesses), no password login past the
//! service with the public client id, tokens of other pools and clients, the audit log, and
//! CustomerRegistered on the bus.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::{
    operation::initiate_auth::InitiateAuthError,
    types::{AuthFlowType, ExplicitAuthFlowsType},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use system_tests::{LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS, system};

const PASSWORD: &str = "Sturdy-Passw0rd-9";

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn call(
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let client = system().http();
    let mut request = client.request(method, system().url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

async fn post(path: &str, body: &Value) -> Reply {
    call(reqwest::Method::POST, path, None, Some(body)).await
}

fn new_email() -> String {
    format!("{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Signs up and confirms a customer; returns their email and sign-up answer.
async fn customer() -> (String, Value) {
    let email = new_email();
    let signed_up = post(
        "/auth/signup",
        &json!({"email": email, "password": PASSWORD, "name": "Grace"}),
    )
    .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.body);
    let confirmed = post("/auth/confirm", &json!({"email": email, "code": "000000"})).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    (email, signed_up.body)
}

async fn login(email: &str, password: &str) -> Reply {
    post(
        "/auth/login",
        &json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn sign_up_confirm_login_me_and_refresh() {
    let (email, signed_up) = customer().await;
    let tokens = login(&email, PASSWORD).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    let access_token = tokens.body["access_token"].as_str().unwrap();
    let me = call(reqwest::Method::GET, "/auth/me", Some(access_token), None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["user_id"], signed_up["user_id"]);
    assert_eq!(me.body["email"], email.as_str());
    assert_eq!(me.body["groups"], json!(["customer"]));

    let refreshed = post(
        "/auth/refresh",
        &json!({"refresh_token": tokens.body["refresh_token"]}),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let fresh = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(
        call(reqwest::Method::GET, "/auth/me", Some(fresh), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_weak_password_is_a_400_naming_the_rule() {
    let response = post(
        "/auth/signup",
        &json!({"email": new_email(), "password": "alllowercase", "name": "G"}),
    )
    .await;
    assert_eq!(response.status, 400);
    let detail = response.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("password: must contain an uppercase letter"),
        "{detail}"
    );
    assert!(
        detail.contains("password: must contain a number"),
        "{detail}"
    );
}

#[tokio::test]
async fn signing_up_twice_with_one_email_is_a_409() {
    let (email, _) = customer().await;
    let again = post(
        "/auth/signup",
        &json!({"email": email, "password": PASSWORD, "name": "G"}),
    )
    .await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn a_wrong_password_gets_the_same_401_as_an_unknown_user() {
    let (email, _) = customer().await;
    let wrong = login(&email, "Wrong-Passw0rd-1").await;
    let unknown = login(&new_email(), PASSWORD).await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    let comparable = |body: &Value| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("correlation_id");
        body
    };
    assert_eq!(comparable(&wrong.body), comparable(&unknown.body));
}

/// Sleeps until a lockout window begins, so what follows lands in one window.
async fn start_of_a_window() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let window_ms = LOGIN_WINDOW_SECONDS * 1000;
    tokio::time::sleep(Duration::from_millis(
        window_ms - u64::try_from(now.as_millis()).unwrap() % window_ms,
    ))
    .await;
}

#[tokio::test]
async fn failed_logins_lock_the_account_with_429_until_the_window_ends() {
    let (email, _) = customer().await;
    start_of_a_window().await;

    for _ in 0..LOGIN_MAX_FAILURES {
        assert_eq!(login(&email, "Wrong-Passw0rd-1").await.status, 401);
    }
    let locked = login(&email, PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let retry_after: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=LOGIN_WINDOW_SECONDS).contains(&retry_after));

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(
        login(&email, PASSWORD).await.status,
        200,
        "the lock ends with the window"
    );
}

/// Every guess takes its count before Cognito checks the password, so concurrent guesses
/// cannot all pass a check made before any of them failed.
#[tokio::test]
async fn twenty_concurrent_wrong_passwords_get_exactly_the_limit_of_401s_and_429_for_the_rest() {
    let (email, _) = customer().await;
    // Twenty requests at once start as many auth instances (devstack allows it twenty): a
    // burst of malformed logins, refused before any count, so the guesses meet warm instances
    // and land within one short window.
    let warm_up = (0..20).map(|_| login("not-an-email", "x"));
    for reply in futures::future::join_all(warm_up).await {
        assert_eq!(reply.status, 400, "{}", reply.body);
    }
    start_of_a_window().await;
    let started = std::time::Instant::now();
    let guesses = (0..20).map(|_| login(&email, "Wrong-Passw0rd-1"));
    let statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .iter()
        .map(|reply| reply.status)
        .collect();
    assert!(
        started.elapsed() < Duration::from_secs(LOGIN_WINDOW_SECONDS),
        "the guesses took longer than one window ({:?}), so some met fresh counters",
        started.elapsed()
    );
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    let limit = usize::try_from(LOGIN_MAX_FAILURES).unwrap();
    assert_eq!(
        (count(401), count(429)),
        (limit, 20 - limit),
        "{statuses:?}"
    );
}

/// The app client allows no password flow of its own (as on AWS, the edge refuses what the
/// client does not allow), so the public client id in every token lets no one check passwords
/// past the lockout and the audit.
#[tokio::test]
async fn cognitos_own_password_login_is_refused_to_the_public_client_id() {
    let system = system();
    let (email, _) = customer().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&system.sdk_config().await);
    let refused = cognito
        .initiate_auth()
        .client_id(&system.user_pool_client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &email)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap_err();
    let Some(InitiateAuthError::InvalidParameterException(error)) = refused.as_service_error()
    else {
        panic!("not Cognito's refusal of the flow: {refused:?}");
    };
    assert_eq!(
        error.message(),
        Some("USER_PASSWORD_AUTH flow not enabled for this client")
    );
    assert_eq!(
        login(&email, PASSWORD).await.status,
        200,
        "the same credentials log in through the API"
    );
}

#[tokio::test]
async fn a_customer_token_from_login_is_refused_on_admin_routes() {
    let (email, _) = customer().await;
    let tokens = login(&email, PASSWORD).await;
    let token = tokens.body["access_token"].as_str().unwrap();
    let create = call(
        reqwest::Method::POST,
        "/products",
        Some(token),
        Some(&json!({"sku": "NOPE-1", "name": "x", "price_cents": 1, "currency": "EUR"})),
    )
    .await;
    assert_eq!(create.status, 403);
}

#[tokio::test]
async fn tokens_of_another_pool_or_another_client_are_refused() {
    let system = system();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&system.sdk_config().await);
    let flows = [
        ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
    ];

    // A real token from a second pool of the same emulator.
    let other_pool = cognito
        .create_user_pool()
        .pool_name(format!("other-{}", uuid::Uuid::new_v4().simple()))
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let other_pool_token = token_from(&cognito, &other_pool, &flows).await;
    // A real token from a second app client of the shop's own pool.
    let other_client_token = token_from(&cognito, &system.user_pool_id, &flows).await;

    for token in [other_pool_token, other_client_token] {
        let me = call(reqwest::Method::GET, "/auth/me", Some(&token), None).await;
        assert_eq!(me.status, 401, "{}", me.body);
    }
}

/// An access token of a new user, from a new app client of `pool`.
async fn token_from(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    flows: &[ExplicitAuthFlowsType],
) -> String {
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name("intruder")
        .set_explicit_auth_flows(Some(flows.to_vec()))
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let username = new_email();
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(&username)
        .send()
        .await
        .unwrap();
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(&username)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let auth = cognito
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(client)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", &username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    auth.authentication_result.unwrap().access_token.unwrap()
}

#[tokio::test]
async fn every_login_attempt_is_one_audit_line_without_password_or_token() {
    let system = system();
    let Some(log_dir) = &system.log_dir else {
        return; // A stack started elsewhere keeps its logs elsewhere.
    };
    let (email, _) = customer().await;
    let wrong_password = "Wrong-Passw0rd-77";
    assert_eq!(login(&email, wrong_password).await.status, 401);
    let tokens = login(&email, PASSWORD).await;
    assert_eq!(tokens.status, 200);

    // Logs reach the file as the function writes them; give the last line a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = std::fs::read_to_string(log_dir.join("AuthHttpFunction.log")).unwrap();
    let audit: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["audit"] == "login_attempt")
        .collect();
    // The audit names accounts by the first 16 bytes of the address's SHA-256, in hex.
    let hash_of_email: String = Sha256::digest(email.as_bytes())[..16]
        .iter()
        .fold(String::new(), |hex, byte| hex + &format!("{byte:02x}"));
    let mine: Vec<&Value> = audit
        .iter()
        .filter(|line| line["email_hash"] == hash_of_email)
        .collect();
    let outcomes: Vec<(&str, &str)> = mine
        .iter()
        .map(|line| {
            (
                line["outcome"].as_str().unwrap(),
                line["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [("failed", "not_authorized"), ("succeeded", "ok")]
    );
    for line in &mine {
        for field in ["source_ip", "user_agent", "correlation_id"] {
            assert!(
                line[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field} in {line}"
            );
        }
    }

    assert!(
        mine.iter().all(|line| !line.to_string().contains(&email)),
        "the audit names the account by hash, not by address"
    );
    for secret in [
        PASSWORD,
        wrong_password,
        tokens.body["access_token"].as_str().unwrap(),
        tokens.body["refresh_token"].as_str().unwrap(),
        tokens.body["id_token"].as_str().unwrap(),
    ] {
        assert!(!log.contains(secret), "a password or token reached the log");
    }
}

#[tokio::test]
async fn a_confirmed_customer_reaches_a_bus_subscriber_as_customer_registered() {
    let (email, signed_up) = customer().await;
    let event = system()
        .wait_for_recorded_event(|event| {
            event["detail-type"] == "CustomerRegistered"
                && event["detail"]["data"]["email"] == email.as_str()
        })
        .await;
    assert_eq!(event["source"], "shop.auth");
    assert_eq!(event["detail"]["data"]["customer_id"], signed_up["user_id"]);
    shop_testkit::schemas::assert_valid(&event["detail"]);
}
