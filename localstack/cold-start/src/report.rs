//! From the runs of each function to the figures of the table: medians, the time in AWS calls,
//! what remains, and init split into its parts.

use std::{fmt::Write, time::Duration};

use serde_json::{Value, json};

use crate::launch::ColdStart;

/// The line `shop_observability` logs once logging is set up, the first thing each function's
/// `main` does: it marks the end of the process's own start (exec, Tokio, the subscriber).
pub const LOGGING_READY: &str = "logging initialised";

/// The median; for an even count the mean of the two middle values.
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2),
    }
}

/// The time covered by a set of intervals, overlaps counted once: the SDK may have more than
/// one call in flight.
fn covered(mut spans: Vec<(Duration, Duration)>) -> Duration {
    spans.sort_unstable();
    let mut total = Duration::ZERO;
    let mut current: Option<(Duration, Duration)> = None;
    for (start, end) in spans {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e.saturating_sub(s);
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    total + current.map_or(Duration::ZERO, |(s, e)| e.saturating_sub(s))
}

/// One run's figures.
#[derive(Debug, Clone)]
pub struct RunFigures {
    pub init: Duration,
    pub first_response: Duration,
    pub calls: usize,
    pub aws: Duration,
    /// Of `aws`, what the proxy itself added (its time minus the emulator's).
    pub proxy: Duration,
    pub remainder: Duration,
    /// Init in consecutive parts, as (part, time); empty when the process logs no marks.
    pub parts: Vec<(&'static str, Duration)>,
}

fn line_at(run: &ColdStart, text: &str) -> Option<Duration> {
    run.lines
        .iter()
        .find(|(_, line)| line.contains(text))
        .map(|(at, _)| *at)
}

/// Init's parts, each ending where the next begins, so they add up to init. A part whose mark
/// is missing is folded into the next.
fn init_parts(run: &ColdStart) -> Vec<(&'static str, Duration)> {
    let init_calls: Vec<_> = run.calls.iter().filter(|c| c.end <= run.init).collect();
    let aws_at_init = covered(init_calls.iter().map(|c| (c.start, c.end)).collect());
    let first_call = init_calls.first().map(|c| c.start);
    let last_end = init_calls.last().map(|c| c.end);
    let marks: [(&'static str, Option<Duration>); 3] = [
        (PARTS[0], line_at(run, LOGGING_READY)),
        (PARTS[1], first_call),
        (PARTS[2], last_end),
    ];
    if marks.iter().all(|(_, at)| at.is_none()) {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut previous = Duration::ZERO;
    for (part, at) in marks {
        if let Some(at) = at.filter(|at| *at >= previous) {
            parts.push((part, at.saturating_sub(previous)));
            previous = at;
        }
    }
    parts.push((PARTS[3], run.init.saturating_sub(previous)));
    if first_call.is_some() {
        parts.push((PARTS[4], aws_at_init));
    }
    parts
}

pub fn figures(run: &ColdStart) -> RunFigures {
    let calls: Vec<_> = run
        .calls
        .iter()
        .filter(|c| c.end <= run.first_response)
        .collect();
    let aws = covered(calls.iter().map(|c| (c.start, c.end)).collect());
    RunFigures {
        init: run.init,
        first_response: run.first_response,
        calls: calls.len(),
        aws,
        proxy: calls
            .iter()
            .map(|c| c.duration().saturating_sub(c.upstream))
            .sum(),
        remainder: run.first_response.saturating_sub(aws),
        parts: init_parts(run),
    }
}

/// The medians of one function's runs.
#[derive(Debug, Clone)]
pub struct Summary {
    pub binary: String,
    pub work: String,
    pub runs: usize,
    pub init: Duration,
    pub first_response: Duration,
    pub calls: usize,
    pub aws: Duration,
    pub proxy: Duration,
    pub remainder: Duration,
    pub parts: Vec<(&'static str, Duration)>,
    /// The bootstrap's size, and zipped as Lambda takes it.
    pub size: u64,
    pub zipped: u64,
}

fn median_of(runs: &[RunFigures], pick: impl Fn(&RunFigures) -> Duration) -> Duration {
    median(&runs.iter().map(pick).collect::<Vec<_>>()).unwrap_or_default()
}

pub fn summarise(binary: &str, work: &str, runs: &[RunFigures], sizes: (u64, u64)) -> Summary {
    let labels: Vec<&'static str> = runs
        .first()
        .map(|r| r.parts.iter().map(|(label, _)| *label).collect())
        .unwrap_or_default();
    let parts = labels
        .into_iter()
        .map(|label| {
            let values: Vec<Duration> = runs
                .iter()
                .filter_map(|r| r.parts.iter().find(|(l, _)| *l == label).map(|(_, d)| *d))
                .collect();
            (label, median(&values).unwrap_or_default())
        })
        .collect();
    let mut calls: Vec<usize> = runs.iter().map(|r| r.calls).collect();
    calls.sort_unstable();
    Summary {
        binary: binary.to_owned(),
        work: work.to_owned(),
        runs: runs.len(),
        init: median_of(runs, |r| r.init),
        first_response: median_of(runs, |r| r.first_response),
        calls: calls.get(calls.len() / 2).copied().unwrap_or(0),
        aws: median_of(runs, |r| r.aws),
        proxy: median_of(runs, |r| r.proxy),
        remainder: median_of(runs, |r| r.remainder),
        parts,
        size: sizes.0,
        zipped: sizes.1,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!(
        "{:.2}",
        f64::from(u32::try_from(bytes / 1024).unwrap_or(u32::MAX)) / 1024.0
    )
}

/// The table in Markdown, the floor's remainder beside each function's.
pub fn table(summaries: &[Summary], floor: &Summary) -> String {
    let mut out = String::from(
        "| function | event | init (ms) | first response (ms) | AWS calls | in AWS calls (ms) | remainder (ms) | remainder / floor | bootstrap (MB) | zipped (MB) |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in summaries {
        let ratio = s.remainder.as_secs_f64() / floor.remainder.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {ratio:.2}× | {} | {} |",
            s.binary,
            s.work,
            ms(s.init),
            ms(s.first_response),
            s.calls,
            ms(s.aws),
            ms(s.remainder),
            mb(s.size),
            mb(s.zipped),
        );
    }
    out
}

/// The parts of init, in order, as [`init_parts`] names them.
const PARTS: [&str; 5] = [
    "exec → logging ready",
    // Settings, the SDK's configuration, the clients, the HTTPS client's trust roots, and the
    // first request's signing: everything before the first byte reaches the proxy.
    "→ first AWS request sent",
    "→ last init AWS answer",
    "→ first next (runtime start)",
    "of which in init AWS calls",
];

/// Each function's init in its parts, in Markdown (medians of each part, so they need not add
/// up exactly; a part whose mark the function did not log is folded into the next).
pub fn breakdown(summaries: &[Summary]) -> String {
    let mut out = String::from("| function | init (ms) |");
    for part in PARTS {
        let _ = write!(out, " {part} |");
    }
    out.push_str(" the proxy's share of all AWS calls |\n|---|---:|");
    out.push_str(&"---:|".repeat(PARTS.len() + 1));
    out.push('\n');
    for s in summaries.iter().filter(|s| !s.parts.is_empty()) {
        let _ = write!(out, "| {} | {} |", s.binary, ms(s.init));
        for part in PARTS {
            let time = s.parts.iter().find(|(p, _)| *p == part);
            let _ = write!(out, " {} |", time.map_or_else(String::new, |(_, t)| ms(*t)));
        }
        let _ = writeln!(out, " {} |", ms(s.proxy));
    }
    out
}

/// Every run as measured, for reading again later.
pub fn runs_json(binary: &str, runs: &[ColdStart]) -> Value {
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    json!({
        "binary": binary,
        "runs": runs.iter().map(|run| json!({
            "init_us": micros(run.init),
            "first_response_us": micros(run.first_response),
            "calls": run.calls.iter().map(|c| json!({
                "operation": c.operation,
                "status": c.status,
                "start_us": micros(c.start),
                "end_us": micros(c.end),
                "upstream_us": micros(c.upstream),
            })).collect::<Vec<_>>(),
            "lines": run.lines.iter().map(|(at, line)| json!({"at_us": micros(*at), "line": line})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::TimedCall;

    fn millis(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn call(start: u64, end: u64) -> TimedCall {
        TimedCall {
            operation: "DynamoDB_20120810.DescribeTable".to_owned(),
            status: 200,
            start: millis(start),
            end: millis(end),
            upstream: millis(end - start) / 2,
        }
    }

    fn run() -> ColdStart {
        ColdStart {
            init: millis(20),
            first_response: millis(30),
            // Two calls at init, one on the request.
            calls: vec![call(8, 12), call(13, 17), call(22, 26)],
            lines: vec![(millis(2), r#"{"message":"logging initialised"}"#.to_owned())],
            response: Vec::new(),
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[millis(3), millis(1), millis(2)]), Some(millis(2)));
        assert_eq!(
            median(&[millis(4), millis(1), millis(2), millis(3)]),
            Some(millis(5) / 2)
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn overlapping_calls_count_once() {
        assert_eq!(
            covered(vec![
                (millis(0), millis(4)),
                (millis(2), millis(6)),
                (millis(8), millis(9))
            ]),
            millis(7)
        );
    }

    #[test]
    fn the_remainder_is_the_first_response_less_the_aws_calls() {
        let figures = figures(&run());
        assert_eq!(figures.calls, 3);
        assert_eq!(figures.aws, millis(12));
        assert_eq!(figures.remainder, millis(18));
        assert_eq!(figures.proxy, millis(6));
    }

    #[test]
    fn init_parts_follow_the_marks_and_add_up_to_init() {
        let parts = init_parts(&run());
        assert_eq!(
            parts,
            vec![
                ("exec → logging ready", millis(2)),
                ("→ first AWS request sent", millis(6)),
                ("→ last init AWS answer", millis(9)),
                ("→ first next (runtime start)", millis(3)),
                ("of which in init AWS calls", millis(8)),
            ]
        );
        let consecutive: Duration = parts[..4].iter().map(|(_, d)| *d).sum();
        assert_eq!(consecutive, millis(20));
    }

    #[test]
    fn a_process_that_logs_no_marks_has_no_parts() {
        let floor = ColdStart {
            calls: Vec::new(),
            lines: Vec::new(),
            ..run()
        };
        assert!(init_parts(&floor).is_empty());
    }
}
