//! The auth API against Cognito, DynamoDB and EventBridge on moto, with the whole template
//! provisioned by devstack's provisioner; requests shaped as API Gateway delivers them.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use auth::{
    adapters::{Customers, IdentityProvider, LoginAttempts},
    domain::{Email, Lockout, PasswordPolicy},
    entrypoints::{http, stream::CustomerEvents},
    service::Auth,
};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use devstack::template::Resolver;
use serde_json::{Value, json};
use shop_events::{ParkingQueue, Publisher};
use shop_observability::{
    capture::{CapturedLogs, CapturedMetrics, Datum},
    metric_names::{LOGIN_FAILED, LOGIN_SUCCEEDED, LOGIN_THROTTLED},
    redact::email_hash,
};
use shop_testkit::{
    Moto,
    api::{ApiRequest, ApiResponse, As, send},
    bus::Subscription,
    schemas, stack, streams,
};

const PASSWORD: &str = "Correct-Horse-42";

struct Setup {
    app: Router,
    resolver: Resolver,
    config: SdkConfig,
    lockout: Lockout,
}

/// 3 failures per account and source, 6 per account, 100 per source, in 3 s windows.
const LOCKOUT: Lockout = Lockout {
    max_failures: 3,
    max_failures_per_account: 6,
    max_failures_per_source: 100,
    window_secs: 3,
};

/// Windows long enough that a test of the limits runs within one.
const LONG_WINDOWS: Lockout = Lockout {
    window_secs: 3600,
    ..LOCKOUT
};

/// The whole template on moto, and the auth router over it. `auto_confirm` as on a local
/// stage.
async fn setup(auto_confirm: bool) -> Setup {
    setup_with(auto_confirm, LOCKOUT).await
}

async fn setup_with(auto_confirm: bool, lockout: Lockout) -> Setup {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let pool = stack::name(&resolver, "UserPool");
    let auth = auth_over(&config, &resolver, pool, lockout, auto_confirm);
    auth.idp.connect().await.unwrap();
    Setup {
        app: http::router(auth),
        resolver,
        config,
        lockout,
    }
}

fn auth_over(
    config: &SdkConfig,
    resolver: &Resolver,
    user_pool: String,
    lockout: Lockout,
    auto_confirm: bool,
) -> Auth {
    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    Auth {
        idp: IdentityProvider::new(
            aws_sdk_cognitoidentityprovider::Client::new(config),
            user_pool,
            stack::name(resolver, "UserPoolClient"),
        ),
        attempts: LoginAttempts::new(
            dynamodb.clone(),
            stack::name(resolver, "LoginAttemptsTable"),
        ),
        customers: Customers::new(dynamodb, stack::name(resolver, "CustomersTable")),
        policy: PasswordPolicy {
            min_length: 12,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: false,
        },
        lockout,
        auto_confirm,
    }
}

/// A client address no other test uses, so counters per source start at zero.
fn source() -> String {
    let id = uuid::Uuid::new_v4();
    let [a, b, c, ..] = *id.as_bytes();
    format!("10.{a}.{b}.{c}")
}

/// Waits for a fresh window unless `needed` seconds of the current one remain.
async fn window_with_room(lockout: Lockout, needed: Duration) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let window = Duration::from_secs(lockout.window_secs);
    let into = Duration::from_millis(u64::try_from(now.as_millis() % window.as_millis()).unwrap());
    let left = window.saturating_sub(into);
    if left < needed {
        tokio::time::sleep(left).await;
    }
}

fn email() -> String {
    format!("{}@example.com", shop_testkit::unique_name("user"))
}

impl Setup {
    async fn post(&self, path: &str, body: &Value) -> ApiResponse {
        send(&self.app, &ApiRequest::post(path).json(body)).await
    }

    async fn sign_up(&self, email: &str) -> ApiResponse {
        self.post(
            "/auth/signup",
            &json!({"email": email, "password": PASSWORD, "name": "Ada"}),
        )
        .await
    }

    async fn login(&self, email: &str, password: &str) -> ApiResponse {
        self.post(
            "/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    async fn login_from(&self, source: &str, email: &str, password: &str) -> ApiResponse {
        let request = ApiRequest::post("/auth/login")
            .from_source(source)
            .json(&json!({"email": email, "password": password}));
        send(&self.app, &request).await
    }

    /// The counts taken in the current window by `email` from `source`, from the account and
    /// from the source, as stored (`None`: no counter).
    async fn counts(&self, email: &str, source: &str) -> [Option<i64>; 3] {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.config);
        let account = Email::parse(email).unwrap().hashed();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let counters = self
            .lockout
            .counters(&account, source, self.lockout.window(now));
        let mut counts = [None; 3];
        for (count, counter) in counts.iter_mut().zip(&counters) {
            let item = dynamodb
                .get_item()
                .table_name(stack::name(&self.resolver, "LoginAttemptsTable"))
                .key("key", AttributeValue::S(counter.key.clone()))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item;
            *count = item.map(|item| item["failures"].as_n().unwrap().parse().unwrap());
        }
        counts
    }

    /// A confirmed customer's email.
    async fn customer(&self) -> String {
        let email = email();
        assert_eq!(self.sign_up(&email).await.status, 201);
        let confirmed = self
            .post("/auth/confirm", &json!({"email": email, "code": "123456"}))
            .await;
        assert_eq!(confirmed.status, 204, "{:#}", confirmed.body);
        email
    }
}

#[tokio::test]
async fn sign_up_confirm_login_refresh_and_me() {
    let setup = setup(false).await;
    let email = email();
    let signed_up = setup.sign_up(&email.to_uppercase()).await;
    assert_eq!(signed_up.status, 201, "{:#}", signed_up.body);
    assert_eq!(
        signed_up.body["email"],
        email.as_str(),
        "emails are stored lower-cased"
    );
    let user_id = signed_up.body["user_id"].as_str().unwrap().to_owned();

    // Not confirmed yet: the same answer as a wrong password.
    assert_eq!(setup.login(&email, PASSWORD).await.status, 401);

    let confirmed = setup
        .post("/auth/confirm", &json!({"email": email, "code": "123456"}))
        .await;
    assert_eq!(confirmed.status, 204);

    let login = setup.login(&email, PASSWORD).await;
    assert_eq!(login.status, 200, "{:#}", login.body);
    for token in ["id_token", "access_token", "refresh_token"] {
        assert!(
            login.body[token].as_str().is_some_and(|t| t.len() > 20),
            "{token}"
        );
    }

    let refreshed = setup
        .post(
            "/auth/refresh",
            &json!({"refresh_token": login.body["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{:#}", refreshed.body);
    assert!(refreshed.body["access_token"].is_string());

    let me = send(
        &setup.app,
        &ApiRequest::get("/auth/me").caller(As::customer(&user_id)),
    )
    .await;
    assert_eq!(me.status, 200, "{:#}", me.body);
    assert_eq!(me.body["user_id"], user_id.as_str());
    assert_eq!(me.body["email"], email.as_str());
    assert_eq!(me.body["groups"], json!(["customer"]));
}

#[tokio::test]
async fn new_users_join_the_customer_group_and_nothing_else() {
    let setup = setup(true).await;
    let email = email();
    assert_eq!(setup.sign_up(&email).await.status, 201);
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&setup.config);
    let groups = cognito
        .admin_list_groups_for_user()
        .user_pool_id(stack::name(&setup.resolver, "UserPool"))
        .username(&email)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = groups
        .groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, ["customer"]);
}

#[tokio::test]
async fn a_local_stage_confirms_at_sign_up() {
    let setup = setup(true).await;
    let email = email();
    assert_eq!(setup.sign_up(&email).await.status, 201);
    assert_eq!(setup.login(&email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn a_weak_password_is_a_400_naming_each_broken_rule() {
    let setup = setup(false).await;
    let response = setup
        .post(
            "/auth/signup",
            &json!({"email": email(), "password": "short", "name": "Ada"}),
        )
        .await;
    assert_eq!(response.status, 400);
    let detail = response.body["detail"].as_str().unwrap();
    assert!(detail.contains("at least 12 characters"), "{detail}");
    assert!(detail.contains("uppercase"), "{detail}");
    assert!(detail.contains("number"), "{detail}");
    assert!(
        !response.body.to_string().contains("short"),
        "the password is not echoed"
    );
}

#[tokio::test]
async fn malformed_fields_are_a_400_naming_them() {
    let setup = setup(false).await;
    let response = setup
        .post(
            "/auth/signup",
            &json!({"email": "not-an-email", "password": PASSWORD, "name": " "}),
        )
        .await;
    assert_eq!(response.status, 400);
    let fields: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name"]);
}

/// Found by `make fuzz`: an address `Email::parse` takes but the pool refuses was a 500.
#[tokio::test]
async fn an_email_the_user_pool_refuses_is_a_400_naming_it() {
    let setup = setup(false).await;
    let response = setup.sign_up("v?60bhr-{%@qo3l.example.com").await;
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn an_existing_email_is_a_409() {
    let setup = setup(false).await;
    let email = email();
    assert_eq!(setup.sign_up(&email).await.status, 201);
    assert_eq!(setup.sign_up(&email).await.status, 409);
}

#[tokio::test]
async fn confirming_a_confirmed_account_gets_the_same_400_as_an_unknown_email() {
    let setup = setup(false).await;
    let confirmed = setup
        .post(
            "/auth/confirm",
            &json!({"email": setup.customer().await, "code": "123456"}),
        )
        .await;
    let unknown = setup
        .post(
            "/auth/confirm",
            &json!({"email": email(), "code": "123456"}),
        )
        .await;
    assert_eq!(confirmed.status, 400, "{:#}", confirmed.body);
    assert_eq!(unknown.status, 400, "{:#}", unknown.body);
    let without_correlation = |body: &Value| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("correlation_id");
        body
    };
    assert_eq!(
        without_correlation(&confirmed.body),
        without_correlation(&unknown.body)
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let setup = setup(true).await;
    let email = setup.customer().await;
    let wrong = setup.login(&email, "Wrong-Password-1").await;
    let unknown = setup.login(&format!("x{email}"), PASSWORD).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    let strip = |body: &Value| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("correlation_id");
        body
    };
    assert_eq!(strip(&wrong.body), strip(&unknown.body));
}

/// Each attempt is counted once by its outcome: succeeded, failed per reason, refused per limit.
#[tokio::test(flavor = "current_thread")]
async fn every_login_attempt_is_counted_once_by_its_outcome() {
    let setup = setup(true).await;
    let email = setup.customer().await;
    let here = source();
    window_with_room(LOCKOUT, Duration::from_secs(3)).await;
    let (captured, _guard) = CapturedMetrics::start();

    assert_eq!(setup.login_from(&here, &email, PASSWORD).await.status, 200);
    for _ in 0..3 {
        let wrong = setup.login_from(&here, &email, "Wrong-Password-1").await;
        assert_eq!(wrong.status, 401);
    }
    assert_eq!(setup.login_from(&here, &email, PASSWORD).await.status, 429);

    let auth = ("service", "auth");
    assert_eq!(
        captured.data(LOGIN_SUCCEEDED.name),
        [Datum::new(&[auth], 1.0)]
    );
    assert_eq!(
        captured.data(LOGIN_FAILED.name),
        vec![Datum::new(&[auth, ("reason", "not_authorized")], 1.0); 3]
    );
    assert_eq!(
        captured.data(LOGIN_THROTTLED.name),
        [Datum::new(&[auth, ("limit", "account_from_source")], 1.0)]
    );
}

#[tokio::test]
async fn too_many_failures_from_one_source_lock_it_out_of_the_account_until_the_window_ends() {
    let setup = setup(true).await;
    let email = setup.customer().await;
    let here = source();
    window_with_room(LOCKOUT, Duration::from_secs(3)).await;
    for _ in 0..3 {
        assert_eq!(
            setup
                .login_from(&here, &email, "Wrong-Password-1")
                .await
                .status,
            401
        );
    }
    let locked = setup.login_from(&here, &email, PASSWORD).await;
    assert_eq!(locked.status, 429, "even the right password waits");
    let retry_after: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry_after));

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(setup.login_from(&here, &email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn a_strangers_failures_from_another_source_do_not_lock_the_customer_out() {
    let setup = setup_with(true, LONG_WINDOWS).await;
    let email = setup.customer().await;
    let (stranger, customer) = (source(), source());
    window_with_room(LONG_WINDOWS, Duration::from_secs(30)).await;
    for _ in 0..LONG_WINDOWS.max_failures {
        assert_eq!(
            setup
                .login_from(&stranger, &email, "Wrong-Password-1")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        setup.login_from(&stranger, &email, PASSWORD).await.status,
        429,
        "the stranger's own address is locked out of the account"
    );
    assert_eq!(
        setup.login_from(&customer, &email, PASSWORD).await.status,
        200,
        "the customer, elsewhere, is not"
    );
}

#[tokio::test]
async fn failures_from_many_sources_lock_the_account_at_its_own_higher_limit() {
    let setup = setup_with(true, LONG_WINDOWS).await;
    let email = setup.customer().await;
    window_with_room(LONG_WINDOWS, Duration::from_secs(30)).await;
    let per_source = LONG_WINDOWS.max_failures;
    let sources = LONG_WINDOWS.max_failures_per_account / per_source;
    for _ in 0..sources {
        let guesser = source();
        for _ in 0..per_source {
            assert_eq!(
                setup
                    .login_from(&guesser, &email, "Wrong-Password-1")
                    .await
                    .status,
                401
            );
        }
    }
    let locked = setup.login_from(&source(), &email, PASSWORD).await;
    assert_eq!(
        locked.status, 429,
        "a source that never failed meets the account's limit"
    );
    assert!(locked.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_source_failing_at_many_accounts_is_locked_out_of_every_account() {
    let lockout = Lockout {
        max_failures_per_source: 4,
        ..LONG_WINDOWS
    };
    let setup = setup_with(true, lockout).await;
    let customer = setup.customer().await;
    let guesser = source();
    window_with_room(lockout, Duration::from_secs(30)).await;
    for _ in 0..4 {
        // Unknown accounts count too: a guess cannot tell them apart.
        assert_eq!(
            setup.login_from(&guesser, &email(), PASSWORD).await.status,
            401
        );
    }
    assert_eq!(
        setup.login_from(&guesser, &customer, PASSWORD).await.status,
        429,
        "an account it never tried"
    );
    assert_eq!(
        setup
            .login_from(&source(), &customer, PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_get_401_up_to_the_limit_and_429_after_it() {
    let setup = setup_with(true, LONG_WINDOWS).await;
    let email = setup.customer().await;
    let guesser = source();
    window_with_room(LONG_WINDOWS, Duration::from_secs(30)).await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let app = setup.app.clone();
        let request = ApiRequest::post("/auth/login")
            .from_source(&guesser)
            .json(&json!({"email": email, "password": "Wrong-Password-1"}));
        attempts.spawn(async move { send(&app, &request).await.status });
    }
    let mut statuses = attempts.join_all().await;
    statuses.sort_unstable();
    let limit = usize::try_from(LONG_WINDOWS.max_failures).unwrap();
    assert_eq!(statuses[..limit], vec![401; limit]);
    assert_eq!(statuses[limit..], vec![429; 20 - limit]);
    assert_eq!(
        setup.counts(&email, &guesser).await,
        [Some(3), Some(3), Some(3)],
        "refused guesses hold no count"
    );
}

#[tokio::test]
async fn a_login_gives_back_its_counts_and_forgives_its_sources_failures() {
    let setup = setup_with(true, LONG_WINDOWS).await;
    let email = setup.customer().await;
    let here = source();
    window_with_room(LONG_WINDOWS, Duration::from_secs(30)).await;
    for _ in 0..2 {
        assert_eq!(
            setup
                .login_from(&here, &email, "Wrong-Password-1")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        setup.counts(&email, &here).await,
        [Some(2), Some(2), Some(2)]
    );

    assert_eq!(setup.login_from(&here, &email, PASSWORD).await.status, 200);
    assert_eq!(
        setup.counts(&email, &here).await,
        [None, Some(2), Some(2)],
        "the pair is forgiven; the account and the source keep the failures, not the login"
    );
}

#[tokio::test]
async fn an_attempt_cognito_cannot_answer_is_no_guess_and_holds_no_count() {
    let setup = setup_with(true, LONG_WINDOWS).await;
    let email = setup.customer().await;
    let here = source();
    let without_pool = http::router(auth_over(
        &setup.config,
        &setup.resolver,
        "us-east-1_gone".to_owned(),
        LONG_WINDOWS,
        true,
    ));
    window_with_room(LONG_WINDOWS, Duration::from_secs(30)).await;
    for _ in 0..=LONG_WINDOWS.max_failures {
        let request = ApiRequest::post("/auth/login")
            .from_source(&here)
            .json(&json!({"email": email, "password": PASSWORD}));
        assert_eq!(send(&without_pool, &request).await.status, 500);
    }
    assert_eq!(
        setup.counts(&email, &here).await,
        [Some(0), Some(0), Some(0)]
    );
    assert_eq!(setup.login_from(&here, &email, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn health_is_ok_without_a_token_when_the_pool_and_tables_answer() {
    let setup = setup(false).await;
    let response = send(&setup.app, &ApiRequest::get("/auth/health")).await;
    assert_eq!(response.status, 200, "{:#}", response.body);
    assert_eq!(
        response.body["checks"],
        json!({"user_pool": "ok", "login_attempts_table": "ok", "customers_table": "ok"})
    );
}

#[tokio::test]
async fn health_is_a_503_naming_the_check_when_the_user_pool_is_missing() {
    let setup = setup(false).await;
    let without_pool = http::router(auth_over(
        &setup.config,
        &setup.resolver,
        "us-east-1_gone".to_owned(),
        LOCKOUT,
        false,
    ));
    let response = send(&without_pool, &ApiRequest::get("/auth/health")).await;
    assert_eq!(response.status, 503, "{:#}", response.body);
    assert_eq!(response.body["status"], "unavailable");
    assert_eq!(response.body["checks"]["user_pool"], "failed");
    assert_eq!(response.body["checks"]["customers_table"], "ok");
}

#[tokio::test]
async fn an_invalid_refresh_token_is_a_401() {
    let setup = setup(false).await;
    let response = setup
        .post("/auth/refresh", &json!({"refresh_token": "forged"}))
        .await;
    assert_eq!(response.status, 401);
}

#[tokio::test]
async fn me_needs_a_token() {
    let setup = setup(false).await;
    assert_eq!(
        send(&setup.app, &ApiRequest::get("/auth/me")).await.status,
        401
    );
}

#[tokio::test]
async fn a_confirmed_customer_is_announced_once_as_customer_registered() {
    let setup = setup(true).await;
    let events = aws_sdk_eventbridge::Client::new(&setup.config);
    let bus = stack::name(&setup.resolver, "EventBus");
    let subscriber = Subscription::create(
        &events,
        &aws_sdk_sqs::Client::new(&setup.config),
        &bus,
        &json!({"source": ["shop.auth"]}),
    )
    .await;
    let email = email();
    let signed_up = setup.sign_up(&email).await;
    // A repeated confirmation records nothing new.
    setup
        .post("/auth/confirm", &json!({"email": email, "code": "1"}))
        .await;

    let stream_arn = setup
        .resolver
        .get("CustomersTable", devstack::template::Attribute::StreamArn)
        .unwrap()
        .to_owned();
    let batch = streams::read_all(
        &aws_sdk_dynamodbstreams::Client::new(&setup.config),
        &stream_arn,
    )
    .await;
    assert_eq!(batch.records.len(), 1);
    let parking = ParkingQueue::new(
        aws_sdk_sqs::Client::new(&setup.config),
        stack::name(&setup.resolver, "AuthPublisherDLQ"),
        "AuthPublisherFunction",
        auth::SERVICE,
    );
    let publisher = Publisher::new(events, bus, CustomerEvents, parking);
    assert!(publisher.handle(batch).await.batch_item_failures.is_empty());

    let received = subscriber.receive(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let detail = &received[0]["detail"];
    assert_eq!(received[0]["detail-type"], "CustomerRegistered");
    assert_eq!(detail["data"]["customer_id"], signed_up.body["user_id"]);
    assert_eq!(detail["data"]["email"], email.as_str());
    schemas::assert_valid(detail);
}

#[tokio::test(flavor = "current_thread")]
async fn no_field_of_a_body_reaches_the_logs_malformed_or_well_formed() {
    let setup = setup(false).await;
    let marker = format!("mk{}", uuid::Uuid::new_v4().simple());
    let email = format!("{marker}@example.com");
    let password = format!("Aa1-{marker}");
    let well_formed = [
        (
            "/auth/signup",
            json!({"email": email, "password": password, "name": marker}),
        ),
        ("/auth/confirm", json!({"email": email, "code": marker})),
        ("/auth/login", json!({"email": email, "password": password})),
        ("/auth/login", json!({"email": email, "password": marker})),
        ("/auth/refresh", json!({"refresh_token": marker})),
        (
            "/auth/login",
            json!({"email": marker, "password": 1, marker.as_str(): marker}),
        ),
    ];

    let (captured, _guard) = CapturedLogs::start();
    let mut statuses = Vec::new();
    for (path, body) in &well_formed {
        statuses.push(setup.post(path, body).await.status);
        let malformed = format!("{body},");
        let request = ApiRequest::post(path).raw_body("application/json", &malformed);
        statuses.push(send(&setup.app, &request).await.status);
    }

    assert_eq!(
        statuses,
        [201, 400, 204, 400, 200, 400, 401, 400, 401, 400, 400, 400]
    );
    assert_eq!(captured.access_lines().len(), statuses.len());
    let output = captured.output();
    assert!(!output.contains(&marker), "{output}");
    assert!(
        output.contains(&email_hash(&email)),
        "emails are logged as their hash"
    );
}
