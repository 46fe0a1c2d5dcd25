//! Whether every custom metric the template's dashboards and alarms name was really emitted.
//!
//! A dashboard or alarm on a metric nobody emits is drawn empty and never fires, and nothing
//! says so. devstack can record every metric it receives to a folder (one file per stack, a JSON
//! line per metric the first time it is seen); after the system tests, [`missing`] compares the
//! union with what the template names. AWS namespaces are left out: devstack records those
//! itself, and the dashboard tests check them against what AWS publishes.

use std::{
    collections::BTreeSet,
    io::Write as _,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use serde_json::Value;

use super::{
    MetricKey, Watch,
    alarms::{Condition, Source},
    dashboards,
};
use crate::template::{Resolver, Template};

/// Appends each metric the first time the stack sees it.
#[derive(Debug, Clone)]
pub struct SeenLog(Arc<Mutex<std::fs::File>>);

impl SeenLog {
    /// A new file in `dir` for this process's stack.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.jsonl", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self(Arc::new(Mutex::new(file))))
    }

    pub fn write(&self, key: &MetricKey) {
        let line = serde_json::json!({
            "namespace": key.namespace,
            "name": key.name,
            "dimensions": key.dimensions,
        });
        if let Ok(mut file) = self.0.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// Every metric recorded in `dir` by any stack.
pub fn seen(dir: &Path) -> std::io::Result<BTreeSet<MetricKey>> {
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let path: PathBuf = entry?.path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let Ok(record) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            seen.insert(MetricKey {
                namespace: record["namespace"].as_str().unwrap_or_default().to_owned(),
                name: record["name"].as_str().unwrap_or_default().to_owned(),
                dimensions: record["dimensions"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            });
        }
    }
    Ok(seen)
}

/// The custom metrics (outside `AWS/`) the template's dashboards and alarms name, each with
/// the dashboard or alarm that names it.
pub fn named(template: &Template, resolver: &Resolver) -> Vec<(MetricKey, String)> {
    let watch = Watch::of(template, resolver);
    let mut named = Vec::new();
    for alarm in &watch.alarms {
        if let Condition::Metric(condition) = &alarm.condition {
            for query in &condition.queries {
                if let Source::Metric { key, .. } = &query.source {
                    named.push((key.clone(), alarm.name.clone()));
                }
            }
        }
    }
    for dashboard in &watch.dashboards {
        if let Ok(body) = &dashboard.body {
            for key in dashboards::metric_keys(body) {
                named.push((key, dashboard.name.clone()));
            }
        }
    }
    named.retain(|(key, _)| !key.namespace.starts_with("AWS/"));
    named.sort();
    named.dedup();
    named
}

/// What the template names and no stack saw, with where it is named.
pub fn missing(
    named: &[(MetricKey, String)],
    seen: &BTreeSet<MetricKey>,
) -> Vec<(MetricKey, String)> {
    named
        .iter()
        .filter(|(key, _)| !seen.contains(key))
        .cloned()
        .collect()
}

/// The metrics a list excuses, one per line: `<namespace> <name> [dimension=value]... | why`
/// (`#` starts a comment). A line that does not read is an error naming it.
pub fn excused(list: &str) -> Result<Vec<(MetricKey, String)>, String> {
    let mut excused = Vec::new();
    for (number, line) in list.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (metric, why) = line
            .split_once('|')
            .ok_or(format!("line {}: no `| why`", number + 1))?;
        let mut words = metric.split_whitespace();
        let (Some(namespace), Some(name)) = (words.next(), words.next()) else {
            return Err(format!("line {}: no namespace and name", number + 1));
        };
        let dimensions = words
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect::<Option<_>>()
            .ok_or(format!(
                "line {}: a dimension is not name=value",
                number + 1
            ))?;
        excused.push((
            MetricKey {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                dimensions,
            },
            why.trim().to_owned(),
        ));
    }
    Ok(excused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_metric_counts_only_with_exactly_its_dimensions() {
        let dir = std::env::temp_dir().join(format!("devstack-seen-{}", std::process::id()));
        let log = SeenLog::create(&dir).unwrap();
        let per_route = MetricKey::new(
            "Shop",
            "Requests",
            &[("service", "orders"), ("route", "POST /orders")],
        );
        log.write(&per_route);
        let seen = seen(&dir).unwrap();
        let named = vec![
            (per_route.clone(), "shop-orders".to_owned()),
            (
                MetricKey::new("Shop", "Requests", &[("service", "orders")]),
                "shop-overview".to_owned(),
            ),
        ];
        let missing = missing(&named, &seen);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].1, "shop-overview");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_excuse_names_a_metric_with_its_dimensions_and_why() {
        let list = "# comment\nShop LoginFailed reason=not_confirmed service=auth | sign-ups are confirmed at once\n";
        let list = excused(list).unwrap();
        assert_eq!(
            list[0].0,
            MetricKey::new(
                "Shop",
                "LoginFailed",
                &[("service", "auth"), ("reason", "not_confirmed")]
            )
        );
        assert_eq!(list[0].1, "sign-ups are confirmed at once");
        assert!(excused("Shop LoginFailed reason").is_err());
    }
}
