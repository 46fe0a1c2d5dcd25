//! The metrics devstack keeps, as CloudWatch keeps them: a time series per namespace, metric
//! name and exact set of dimensions, read back as one statistic per period. Percentiles are
//! computed here from the raw values (moto answers a percentile statistic with a 500).

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

/// One time series: CloudWatch treats each distinct dimension set as a metric of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricKey {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

impl MetricKey {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions: dimensions
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// One value of a metric at a time (epoch milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub key: MetricKey,
    pub at_ms: i64,
    pub value: f64,
    pub unit: Option<String>,
}

/// A CloudWatch statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Sum,
    Average,
    Minimum,
    Maximum,
    SampleCount,
    /// `p50`, `p99`, `p99.9`: the value below which this percentage of samples fall.
    Percentile(f64),
}

impl Stat {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "Sum" => Self::Sum,
            "Average" => Self::Average,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            "SampleCount" => Self::SampleCount,
            other => {
                let percent: f64 = other.strip_prefix('p')?.parse().ok()?;
                if !(0.0..=100.0).contains(&percent) {
                    return None;
                }
                Self::Percentile(percent)
            }
        })
    }

    /// The statistic of `values` (not empty).
    pub fn of(self, values: &[f64]) -> f64 {
        match self {
            Self::Sum => values.iter().sum(),
            Self::Average => values.iter().sum::<f64>() / float(values.len()),
            Self::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
            Self::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Self::SampleCount => float(values.len()),
            Self::Percentile(percent) => {
                let mut sorted = values.to_vec();
                sorted.sort_by(f64::total_cmp);
                // Nearest rank: the smallest value with at least `percent`% of samples at or below it.
                let wanted = percent / 100.0 * float(sorted.len());
                let rank = (1..=sorted.len())
                    .find(|rank| float(*rank) >= wanted)
                    .unwrap_or(sorted.len());
                sorted[rank.max(1) - 1]
            }
        }
    }
}

/// A count as a float (counts here stay far below 2^32).
pub(crate) fn float(count: usize) -> f64 {
    f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}

/// A window read as consecutive periods: `[start, start + period)`, ... up to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub period_ms: i64,
}

impl Window {
    /// The `periods` whole periods that end at the period boundary at or before `now_ms`.
    pub fn last(periods: usize, period_ms: i64, now_ms: i64) -> Self {
        let period_ms = period_ms.max(1);
        let end_ms = now_ms - now_ms.rem_euclid(period_ms) + period_ms;
        Self {
            start_ms: end_ms - period_ms * i64::try_from(periods).unwrap_or(i64::MAX / period_ms),
            end_ms,
            period_ms,
        }
    }

    pub fn periods(&self) -> usize {
        usize::try_from((self.end_ms - self.start_ms) / self.period_ms.max(1)).unwrap_or(0)
    }
}

/// A metric's values added up, and how many there were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub sum: f64,
    pub samples: usize,
}

/// How long values are kept: enough for a dashboard's window and every alarm's periods.
const RETENTION_MS: i64 = 6 * 60 * 60 * 1000;

/// Each metric's values, as (epoch milliseconds, value).
type Series = HashMap<MetricKey, Vec<(i64, f64)>>;

#[derive(Debug, Clone, Default)]
pub struct MetricStore {
    series: Arc<Mutex<Series>>,
    /// Where each new metric is written, for the coverage check.
    seen: Option<super::coverage::SeenLog>,
}

impl MetricStore {
    /// A store that also writes each metric it sees for the first time to `seen`.
    pub fn recording_to(seen: super::coverage::SeenLog) -> Self {
        Self {
            seen: Some(seen),
            ..Self::default()
        }
    }

    pub fn record(&self, datum: Datum) {
        let mut series = self.series.lock().expect("the metric store");
        if let Some(seen) = &self.seen
            && !series.contains_key(&datum.key)
        {
            seen.write(&datum.key);
        }
        let values = series.entry(datum.key).or_default();
        values.push((datum.at_ms, datum.value));
        if values.len().is_multiple_of(1024) {
            let oldest = datum.at_ms - RETENTION_MS;
            values.retain(|(at, _)| *at >= oldest);
        }
    }

    /// Every metric's sum and sample count over everything kept (six hours): the counters a
    /// run is measured by (`GET /_devstack/metrics`, the cost model's source).
    pub fn totals(&self) -> Vec<(MetricKey, Totals)> {
        let series = self.series.lock().expect("the metric store");
        let mut totals: Vec<(MetricKey, Totals)> = series
            .iter()
            .map(|(key, values)| {
                let sum = values.iter().map(|(_, value)| value).sum();
                (
                    key.clone(),
                    Totals {
                        sum,
                        samples: values.len(),
                    },
                )
            })
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        totals
    }

    /// `stat` of `key` in each period of `window`; `None` for a period without values (which
    /// CloudWatch leaves out, and alarms treat as missing data).
    pub fn read(&self, key: &MetricKey, stat: Stat, window: Window) -> Vec<Option<f64>> {
        let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); window.periods()];
        if let Some(values) = self.series.lock().expect("the metric store").get(key) {
            for (at, value) in values {
                if *at < window.start_ms || *at >= window.end_ms {
                    continue;
                }
                let index = usize::try_from((at - window.start_ms) / window.period_ms.max(1))
                    .unwrap_or(usize::MAX);
                if let Some(bucket) = buckets.get_mut(index) {
                    bucket.push(*value);
                }
            }
        }
        buckets
            .iter()
            .map(|values| (!values.is_empty()).then(|| stat.of(values)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(key: &MetricKey, at_ms: i64, value: f64) -> Datum {
        Datum {
            key: key.clone(),
            at_ms,
            value,
            unit: None,
        }
    }

    #[test]
    fn statistics_are_computed_per_period_and_empty_periods_are_missing() {
        let store = MetricStore::default();
        let key = MetricKey::new("Shop", "Latency", &[("service", "orders")]);
        for (at, value) in [(1_000, 10.0), (1_500, 30.0), (3_200, 5.0)] {
            store.record(datum(&key, at, value));
        }
        let window = Window {
            start_ms: 1_000,
            end_ms: 4_000,
            period_ms: 1_000,
        };
        assert_eq!(
            store.read(&key, Stat::Sum, window),
            [Some(40.0), None, Some(5.0)]
        );
        assert_eq!(store.read(&key, Stat::Average, window)[0], Some(20.0));
        assert_eq!(store.read(&key, Stat::SampleCount, window)[0], Some(2.0));
        assert_eq!(store.read(&key, Stat::Maximum, window)[0], Some(30.0));
    }

    #[test]
    fn another_dimension_set_is_another_metric() {
        let store = MetricStore::default();
        let per_route = MetricKey::new(
            "Shop",
            "Requests",
            &[("service", "orders"), ("route", "GET /orders")],
        );
        store.record(datum(&per_route, 10, 1.0));
        let per_service = MetricKey::new("Shop", "Requests", &[("service", "orders")]);
        let window = Window {
            start_ms: 0,
            end_ms: 1_000,
            period_ms: 1_000,
        };
        assert_eq!(store.read(&per_service, Stat::Sum, window), [None]);
        assert_eq!(store.read(&per_route, Stat::Sum, window), [Some(1.0)]);
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let of = |stat: &str, values: &[f64]| Some(Stat::parse(stat).unwrap().of(values));
        assert_eq!(of("p50", &values), Some(50.0));
        assert_eq!(of("p99", &values), Some(99.0));
        assert_eq!(of("p100", &values), Some(100.0));
        assert_eq!(of("p99", &[7.0]), Some(7.0));
        assert_eq!(Stat::parse("p101"), None);
        assert_eq!(Stat::parse("Median"), None);
    }

    #[test]
    fn totals_add_up_every_value_of_each_series() {
        let store = MetricStore::default();
        let invocations = MetricKey::new("AWS/Lambda", "Invocations", &[("FunctionName", "f")]);
        let duration = MetricKey::new("AWS/Lambda", "Duration", &[("FunctionName", "f")]);
        for at in [10, 20_000, 40_000_000] {
            store.record(datum(&invocations, at, 1.0));
        }
        store.record(datum(&duration, 10, 4.5));
        store.record(datum(&duration, 20, 5.5));
        let totals = store.totals();
        assert_eq!(
            totals,
            [
                (
                    duration,
                    Totals {
                        sum: 10.0,
                        samples: 2
                    }
                ),
                (
                    invocations,
                    Totals {
                        sum: 3.0,
                        samples: 3
                    }
                ),
            ]
        );
    }

    #[test]
    fn the_last_periods_end_at_the_boundary_after_now() {
        let window = Window::last(3, 1_000, 10_500);
        assert_eq!(window.end_ms, 11_000);
        assert_eq!(window.start_ms, 8_000);
        assert_eq!(window.periods(), 3);
    }
}
