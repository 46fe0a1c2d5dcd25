//! `GET /_devstack/metrics`: every metric devstack has recorded, added up since start-up (its
//! sum and sample count per namespace, name and dimension set). A run is measured by reading
//! it before and after: `make cost` turns the difference into what the run would cost on AWS.
//! `?namespace=AWS/Lambda` keeps one namespace.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::get,
};
use serde_json::{Value, json};

use super::Edge;
use crate::monitoring::MetricStore;

pub fn routes() -> Router<Edge> {
    Router::new().route("/_devstack/metrics", get(metrics))
}

async fn metrics(
    State(edge): State<Edge>,
    Query(mut query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let namespace = query.remove("namespace");
    Json(totals(
        &edge.controls.monitoring.store,
        namespace.as_deref(),
    ))
}

fn totals(store: &MetricStore, namespace: Option<&str>) -> Value {
    let metrics: Vec<Value> = store
        .totals()
        .into_iter()
        .filter(|(key, _)| namespace.is_none_or(|wanted| key.namespace == wanted))
        .map(|(key, totals)| {
            json!({
                "namespace": key.namespace,
                "name": key.name,
                "dimensions": key.dimensions,
                "sum": totals.sum,
                "samples": totals.samples,
            })
        })
        .collect();
    json!({ "metrics": metrics })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::{Datum, MetricKey};

    #[test]
    fn every_series_is_listed_with_its_sum_and_samples_and_a_namespace_filters() {
        let store = MetricStore::default();
        let record = |namespace: &str, name: &str, value: f64| {
            store.record(Datum {
                key: MetricKey::new(namespace, name, &[("FunctionName", "f")]),
                at_ms: 1,
                value,
                unit: None,
            });
        };
        record("AWS/Lambda", "Invocations", 1.0);
        record("AWS/Lambda", "Invocations", 1.0);
        record("Shop", "EventsPublished", 3.0);
        assert_eq!(
            totals(&store, Some("AWS/Lambda")),
            json!({"metrics": [{
                "namespace": "AWS/Lambda", "name": "Invocations",
                "dimensions": {"FunctionName": "f"}, "sum": 2.0, "samples": 2
            }]})
        );
        assert_eq!(totals(&store, None)["metrics"].as_array().unwrap().len(), 2);
    }
}
