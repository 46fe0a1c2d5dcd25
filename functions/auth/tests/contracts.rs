//! What auth relies on in the template and the event contracts.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use devstack::template::{Properties, Template};
use serde_json::Value;

/// The function checks passwords against its own copy of the pool's policy (to name the broken
/// rule); the template must give both the same values.
#[test]
fn the_auth_function_checks_the_pools_password_policy() {
    let template =
        Template::load(&[shop_testkit::workspace_root().join("infra/template.yaml")]).unwrap();
    let Properties::UserPool(pool) = &template.resource("UserPool").unwrap().properties else {
        panic!("UserPool is a user pool");
    };
    let policy = pool
        .policies
        .as_ref()
        .unwrap()
        .password_policy
        .as_ref()
        .unwrap();
    let function = template
        .functions()
        .unwrap()
        .into_iter()
        .find(|f| f.logical_id == "AuthHttpFunction")
        .unwrap();
    let env = |name: &str| function.environment[name].clone();
    assert_eq!(
        policy.minimum_length.as_ref(),
        Some(&env("PASSWORD_MIN_LENGTH"))
    );
    for (pool_key, required, env_key) in [
        (
            "RequireLowercase",
            policy.require_lowercase,
            "PASSWORD_REQUIRE_LOWERCASE",
        ),
        (
            "RequireUppercase",
            policy.require_uppercase,
            "PASSWORD_REQUIRE_UPPERCASE",
        ),
        (
            "RequireNumbers",
            policy.require_numbers,
            "PASSWORD_REQUIRE_NUMBERS",
        ),
        (
            "RequireSymbols",
            policy.require_symbols,
            "PASSWORD_REQUIRE_SYMBOLS",
        ),
    ] {
        let required = required.unwrap();
        assert_eq!(
            env(env_key),
            Value::String(required.to_string()),
            "{pool_key}"
        );
    }
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    shop_testkit::assert_openapi_document("auth", &auth::entrypoints::http::openapi());
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(
        shop_testkit::workspace_root()
            .join("events/samples")
            .join(name),
    )
    .unwrap()
}

#[test]
fn the_customers_stream_sample_maps_to_a_valid_customer_registered() {
    use shop_events::StreamMapper;
    let event: aws_lambda_events::dynamodb::Event =
        serde_json::from_str(&sample("auth-customers-stream.json")).unwrap();
    let envelope = auth::entrypoints::stream::CustomerEvents
        .map(&event.records[0])
        .unwrap()
        .unwrap();
    let detail = serde_json::to_value(envelope).unwrap();
    assert_eq!(detail["type"], "CustomerRegistered");
    shop_testkit::schemas::assert_valid(&detail);
}

#[test]
fn every_http_sample_is_an_api_gateway_request_lambda_http_accepts() {
    for name in [
        "auth-http.signup.json",
        "auth-http.login.json",
        "auth-http.me.json",
    ] {
        let request = lambda_http::request::from_str(&sample(name)).unwrap();
        assert!(request.uri().path().starts_with("/auth/"), "{name}");
    }
}
