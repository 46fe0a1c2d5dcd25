//! The canary against real health answers (`shop_http::Health`, served over HTTP on a local
//! port as the gateway would pass them on), and against the template it runs in.

#![allow(clippy::unwrap_used)]

use std::{collections::BTreeSet, io, time::Duration};

use axum::{Router, routing::get};
use canary::probe::{Canary, SERVICES};
use devstack::template::Template;
use shop_http::{Check, Health};

fn ok() -> std::future::Ready<Result<(), io::Error>> {
    std::future::ready(Ok(()))
}

fn missing_table() -> std::future::Ready<Result<(), io::Error>> {
    std::future::ready(Err(io::Error::other("ResourceNotFoundException")))
}

/// Every service's health route, answering from real checks: `down` fails its table check.
fn api(down: &'static str) -> Router {
    SERVICES.iter().fold(Router::new(), |router, &service| {
        router.route(
            &format!("/{service}/health"),
            get(move || async move {
                let table = if service == down {
                    Check::new("table", missing_table())
                } else {
                    Check::new("table", ok())
                };
                Health::check(service, "1.0.0", [Check::new("pool", ok()), table]).await
            }),
        )
    })
}

/// Serves `router` on a free local port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test]
async fn a_run_finds_every_service_available_with_its_latency() {
    let canary = Canary::new(serve(api("none")).await).unwrap();
    let probes = canary.run().await;
    let services: Vec<_> = probes.iter().map(|p| p.service).collect();
    assert_eq!(services, SERVICES);
    for probe in &probes {
        assert!(probe.available, "{probe:?}");
        assert_eq!(probe.status, Some(200));
        assert!(probe.failed_checks.is_empty());
        assert!(probe.latency > Duration::ZERO);
    }
}

#[tokio::test]
async fn a_503_is_unavailable_naming_the_checks_that_failed() {
    let canary = Canary::new(serve(api("orders")).await).unwrap();
    let orders = canary.probe("orders").await;
    assert!(!orders.available);
    assert_eq!(orders.status, Some(503));
    assert_eq!(orders.failed_checks, ["table"]);
    assert!(canary.probe("catalog").await.available);
}

#[tokio::test]
async fn an_answer_later_than_the_timeout_is_unavailable() {
    let slow = Router::new().route(
        "/catalog/health",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Health::check("catalog", "1.0.0", [Check::new("table", ok())]).await
        }),
    );
    let canary = Canary::with_timeout(serve(slow).await, Duration::from_millis(200)).unwrap();
    let probe = canary.probe("catalog").await;
    assert!(!probe.available);
    assert_eq!(probe.status, None);
    assert!(probe.latency < Duration::from_secs(1), "{probe:?}");
    assert!(probe.error.unwrap().contains("no answer within"));
}

#[tokio::test]
async fn a_200_that_is_no_health_report_is_unavailable() {
    let imposter = Router::new().route("/catalog/health", get(|| async { "<html>ok</html>" }));
    let probe = Canary::new(serve(imposter).await)
        .unwrap()
        .probe("catalog")
        .await;
    assert!(!probe.available);
    assert_eq!(probe.status, Some(200));
}

#[tokio::test]
async fn an_api_that_does_not_answer_is_unavailable() {
    // Nothing listens on port 1.
    let probe = Canary::new("http://127.0.0.1:1")
        .unwrap()
        .probe("auth")
        .await;
    assert!(!probe.available);
    assert_eq!(probe.status, None);
    assert!(probe.error.is_some());
}

#[tokio::test]
async fn the_metrics_carry_availability_and_latency_under_the_checked_service() {
    let canary = Canary::new(serve(api("payments")).await).unwrap();
    let down = canary.probe("payments").await.metrics().to_json(0);
    assert_eq!(down["service"], "payments");
    assert_eq!(down["CanaryAvailability"], 0.0);
    assert!(down["CanaryLatency"].as_f64().unwrap() > 0.0);
    let declared = &down["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(declared["Namespace"], "Shop");
    assert_eq!(declared["Dimensions"], serde_json::json!([["service"]]));
    let up = canary.probe("auth").await.metrics().to_json(0);
    assert_eq!(up["CanaryAvailability"], 1.0);
}

/// A service added to the API without a health route, or a route the canary does not ask,
/// would leave a gap in the availability alarm.
#[test]
fn the_canary_asks_exactly_the_health_routes_the_template_declares() {
    let template =
        Template::load(&[shop_testkit::workspace_root().join("infra/template.yaml")]).unwrap();
    let declared: BTreeSet<String> = template
        .functions()
        .unwrap()
        .iter()
        .flat_map(|function| function.http_routes().cloned().collect::<Vec<_>>())
        .filter(|route| route.method == "GET" && route.path.ends_with("/health"))
        .inspect(|route| assert!(route.public, "{} needs no token", route.path))
        .map(|route| route.path)
        .collect();
    let asked: BTreeSet<String> = SERVICES
        .iter()
        .map(|service| format!("/{service}/health"))
        .collect();
    assert_eq!(declared, asked);
}
