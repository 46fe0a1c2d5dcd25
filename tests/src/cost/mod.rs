//! `make cost`: what the shop costs on AWS per million orders, from what a load run on devstack
//! used. [`measure`] boots a devstack of its own, places orders through the API and reads
//! devstack's counters before and after; this module prices what was counted with the list
//! prices in [`prices`] and the stated AWS figures in [`Assumptions`] (durations are not taken
//! from this machine, whose timings say nothing about AWS's).

pub mod measure;
pub mod prices;

use std::fmt::Write as _;

use prices::{PRICES, Prices};

/// The place-order saga's workflow type (the template's `SagaWorkflowType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workflow {
    Standard,
    Express,
}

impl Workflow {
    pub fn parameter(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::Express => "EXPRESS",
        }
    }
}

/// One function's share of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUse {
    /// Its logical id in the template.
    pub function: String,
    pub memory_mb: u32,
    pub invocations: f64,
    /// AWS API calls it made (through devstack's edge).
    pub aws_calls: f64,
    /// Bytes and lines it logged (its log file grew by).
    pub log_bytes: f64,
    pub log_lines: f64,
    /// Invoked by the saga (Step Functions carries the saga's trace into it).
    pub saga_task: bool,
}

/// What one run of `orders` orders used, as devstack counted it (the canary's runs taken out).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    pub orders: f64,
    pub api_requests: f64,
    pub functions: Vec<FunctionUse>,
    /// On-demand request units, global secondary indexes included.
    pub read_units: f64,
    pub write_units: f64,
    /// Bytes the run added to the tables (storage and point-in-time recovery bill them).
    pub stored_bytes: f64,
    /// Events put on the bus (each up to 64 KB is one billed event) and their bytes.
    pub events_put: f64,
    pub event_bytes: f64,
    pub executions: f64,
    /// States entered plus retries: what a Standard workflow bills.
    pub state_transitions: f64,
    /// Task states entered (Express's duration is mostly their Lambda calls).
    pub task_states: f64,
    pub execution_log_bytes: f64,
    pub execution_log_lines: f64,
    /// The bus's event log (a CloudWatch Logs rule target), bytes and lines.
    pub event_log_bytes: f64,
    pub event_log_lines: f64,
    /// KMS requests (sealing and opening card tokens).
    pub kms_requests: f64,
    /// One API access-log line: the template's `AccessLogSettings.Format` filled with typical
    /// values (devstack writes no access log).
    pub access_log_bytes_per_request: f64,
}

/// The AWS figures the model takes where this machine's timings cannot stand in for AWS's,
/// each with its source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
    /// Billed milliseconds per AWS call a warm invocation makes (at least one call's worth per
    /// invocation): FACTS.md's anchor, aws-samples/serverless-rust-demo on arm64 with
    /// DynamoDB, warm p50 5.1 ms for a function making one GetItem.
    pub lambda_ms_per_aws_call: f64,
    /// Bytes Lambda's own JSON lines add per invocation (`platform.start` and
    /// `platform.report` with its X-Ray ids), beside what the function prints.
    pub platform_log_bytes_per_invocation: f64,
    pub platform_log_lines_per_invocation: f64,
    /// What CloudWatch Logs bills per log event beside its message (its event overhead).
    pub log_event_overhead_bytes: f64,
    /// An Express execution's time per task state beside the task function's own: Step
    /// Functions' transition and Lambda's invoke round trip.
    pub express_ms_per_task_overhead: f64,
    /// Stored logs shrink to about this fraction (CloudWatch bills storage compressed).
    pub log_storage_compression: f64,
    /// The volume X-Ray's sampling is priced at (its reservoir makes a trace's cost per order
    /// depend on the rate).
    pub monthly_orders: f64,
}

pub const ASSUMPTIONS: Assumptions = Assumptions {
    lambda_ms_per_aws_call: 5.1,
    platform_log_bytes_per_invocation: 480.0,
    platform_log_lines_per_invocation: 2.0,
    log_event_overhead_bytes: 26.0,
    express_ms_per_task_overhead: 25.0,
    log_storage_compression: 0.15,
    monthly_orders: 1_000_000.0,
};

/// One priced line: what a million orders use of something, and what that costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub service: &'static str,
    pub item: String,
    /// Per order, in the unit `unit` names.
    pub per_order: f64,
    pub unit: &'static str,
    /// Dollars per million orders.
    pub dollars: f64,
}

const MILLION: f64 = 1_000_000.0;
const GB: f64 = 1_073_741_824.0;

impl Usage {
    fn per_order(&self, total: f64) -> f64 {
        total / self.orders.max(1.0)
    }

    /// Billed milliseconds per invocation of `function`.
    fn billed_ms(function: &FunctionUse, assumptions: &Assumptions) -> f64 {
        let calls = (function.aws_calls / function.invocations.max(1.0)).max(1.0);
        (calls * assumptions.lambda_ms_per_aws_call).ceil()
    }

    /// Per-order bytes of everything the run logged to CloudWatch Logs, by source.
    pub fn log_bytes(&self, assumptions: &Assumptions) -> Vec<(String, f64)> {
        let overhead = assumptions.log_event_overhead_bytes;
        let mut sources: Vec<(String, f64)> = self
            .functions
            .iter()
            .map(|f| {
                let platform = f.invocations
                    * (assumptions.platform_log_bytes_per_invocation
                        + assumptions.platform_log_lines_per_invocation * overhead);
                let own = f.log_bytes + f.log_lines * overhead;
                (f.function.clone(), self.per_order(own + platform))
            })
            .collect();
        sources.push((
            "the saga's execution log".to_owned(),
            self.per_order(self.execution_log_bytes + self.execution_log_lines * overhead),
        ));
        sources.push((
            "the bus's event log".to_owned(),
            self.per_order(self.event_log_bytes + self.event_log_lines * overhead),
        ));
        sources.push((
            "the API's access log".to_owned(),
            self.per_order(self.api_requests * (self.access_log_bytes_per_request + overhead)),
        ));
        sources
    }
}

/// What a million orders like the run's cost, line by line.
pub fn bill(usage: &Usage, workflow: Workflow, assumptions: &Assumptions) -> Vec<Line> {
    let p = &PRICES;
    let per = |total: f64| usage.per_order(total);
    let mut lines = vec![Line {
        service: "API Gateway",
        item: "HTTP API requests".to_owned(),
        per_order: per(usage.api_requests),
        unit: "requests",
        dollars: per(usage.api_requests) * p.http_api_per_million,
    }];
    lines.extend(lambda_lines(usage, p, assumptions));
    lines.extend([
        Line {
            service: "DynamoDB",
            item: "on-demand write request units (indexes included)".to_owned(),
            per_order: per(usage.write_units),
            unit: "WRU",
            dollars: per(usage.write_units) * p.dynamodb_write_per_million,
        },
        Line {
            service: "DynamoDB",
            item: "on-demand read request units".to_owned(),
            per_order: per(usage.read_units),
            unit: "RRU",
            dollars: per(usage.read_units) * p.dynamodb_read_per_million,
        },
        Line {
            service: "EventBridge",
            item: "custom events put".to_owned(),
            per_order: per(usage.events_put),
            unit: "events",
            dollars: per(usage.events_put) * p.eventbridge_per_million,
        },
        Line {
            service: "EventBridge",
            item: "events archived (the bus archive)".to_owned(),
            per_order: per(usage.event_bytes),
            unit: "bytes",
            dollars: per(usage.event_bytes) * MILLION / GB * p.eventbridge_archive_per_gb,
        },
        Line {
            service: "KMS",
            item: "requests (card token sealed and opened)".to_owned(),
            per_order: per(usage.kms_requests),
            unit: "requests",
            dollars: per(usage.kms_requests) * p.kms_per_10k_requests * 100.0,
        },
    ]);
    lines.extend(saga_lines(usage, workflow, p, assumptions));
    lines.extend(log_lines(usage, p, assumptions));
    let sampled = sampled_traces_per_order(per(traces(usage)), assumptions);
    lines.push(Line {
        service: "X-Ray",
        item: format!(
            "traces recorded: {} started per order, sampled by the default rule at {} orders a month",
            quantity(per(traces(usage))),
            quantity(assumptions.monthly_orders)
        ),
        per_order: sampled,
        unit: "traces",
        dollars: sampled * p.xray_traces_per_million,
    });
    lines
}

const SECONDS_A_MONTH: f64 = 30.0 * 24.0 * 3600.0;

/// X-Ray's default sampling rule records the first request each second and 5% of the rest,
/// so what a trace costs per order depends on the rate: traces recorded per order when
/// `started` start per order at the assumed monthly volume.
fn sampled_traces_per_order(started: f64, assumptions: &Assumptions) -> f64 {
    let orders_per_second = assumptions.monthly_orders / SECONDS_A_MONTH;
    let rate = started * orders_per_second;
    let sampled = rate.min(1.0) + 0.05 * (rate - 1.0).max(0.0);
    sampled / orders_per_second.max(f64::EPSILON)
}

/// Invocations that start a trace: all but the saga's tasks (Step Functions passes its own
/// trace on), plus one per execution.
fn traces(usage: &Usage) -> f64 {
    usage
        .functions
        .iter()
        .filter(|f| !f.saga_task)
        .map(|f| f.invocations)
        .sum::<f64>()
        + usage.executions
}

fn lambda_lines(usage: &Usage, p: &Prices, assumptions: &Assumptions) -> Vec<Line> {
    let invocations: f64 = usage.functions.iter().map(|f| f.invocations).sum();
    let gb_seconds: f64 = usage
        .functions
        .iter()
        .map(|f| {
            f.invocations * Usage::billed_ms(f, assumptions) / 1000.0 * f64::from(f.memory_mb)
                / 1024.0
        })
        .sum();
    vec![
        Line {
            service: "Lambda",
            item: "requests".to_owned(),
            per_order: usage.per_order(invocations),
            unit: "invocations",
            dollars: usage.per_order(invocations) * p.lambda_requests_per_million,
        },
        Line {
            service: "Lambda",
            item: format!(
                "duration, arm64 ({} ms per AWS call, at least one per invocation)",
                assumptions.lambda_ms_per_aws_call
            ),
            per_order: usage.per_order(gb_seconds),
            unit: "GB-s",
            dollars: usage.per_order(gb_seconds) * MILLION * p.lambda_arm_gb_second,
        },
    ]
}

fn saga_lines(
    usage: &Usage,
    workflow: Workflow,
    p: &Prices,
    assumptions: &Assumptions,
) -> Vec<Line> {
    let per = |total: f64| usage.per_order(total);
    match workflow {
        Workflow::Standard => vec![Line {
            service: "Step Functions",
            item: "Standard state transitions (retries included)".to_owned(),
            per_order: per(usage.state_transitions),
            unit: "transitions",
            dollars: per(usage.state_transitions) * p.sfn_standard_per_1k_transitions * 1000.0,
        }],
        Workflow::Express => {
            let billed_ms = express_billed_ms(usage, assumptions);
            let seconds = billed_ms / 1000.0 * per(usage.executions);
            let gb_seconds = seconds * p.sfn_express_memory_mb / 1024.0;
            vec![
                Line {
                    service: "Step Functions",
                    item: "Express requests".to_owned(),
                    per_order: per(usage.executions),
                    unit: "executions",
                    dollars: per(usage.executions) * p.sfn_express_per_million,
                },
                Line {
                    service: "Step Functions",
                    item: format!(
                        "Express duration ({billed_ms:.0} ms billed per execution, {:.0} MB)",
                        p.sfn_express_memory_mb
                    ),
                    per_order: gb_seconds,
                    unit: "GB-s",
                    dollars: gb_seconds * MILLION * p.sfn_express_gb_second,
                },
            ]
        }
    }
}

/// Billed milliseconds of one Express execution: each task state takes its function's
/// modelled duration plus the per-task overhead; an execution is billed in 100 ms steps.
fn express_billed_ms(usage: &Usage, assumptions: &Assumptions) -> f64 {
    let executions = usage.executions.max(1.0);
    let task_ms: f64 = usage
        .functions
        .iter()
        .filter(|f| f.saga_task)
        .map(|f| f.invocations * Usage::billed_ms(f, assumptions))
        .sum();
    let per_execution_ms =
        (task_ms + usage.task_states * assumptions.express_ms_per_task_overhead) / executions;
    (per_execution_ms / 100.0).ceil().max(1.0) * 100.0
}

fn log_lines(usage: &Usage, p: &Prices, assumptions: &Assumptions) -> Vec<Line> {
    let bytes: f64 = usage.log_bytes(assumptions).iter().map(|(_, b)| b).sum();
    vec![
        Line {
            service: "CloudWatch Logs",
            item: "ingestion (functions, saga, event log, access log)".to_owned(),
            per_order: bytes,
            unit: "bytes",
            dollars: bytes * MILLION / GB * p.logs_ingestion_per_gb,
        },
        Line {
            service: "CloudWatch Logs",
            item: format!(
                "storage for the retention (compressed to ~{:.0}%)",
                assumptions.log_storage_compression * 100.0
            ),
            per_order: bytes * assumptions.log_storage_compression,
            unit: "bytes",
            dollars: bytes * assumptions.log_storage_compression * MILLION / GB
                * p.logs_storage_per_gb_month,
        },
    ]
}

/// What operations cost each month whatever the orders: the template's dashboards, alarms and
/// key, the custom metrics the run emitted, and the canary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fixed {
    pub dashboards: f64,
    /// Metrics the standard alarms watch (a metric-math alarm bills each metric it reads).
    pub alarm_metrics: f64,
    pub composite_alarms: f64,
    /// Distinct custom metrics (name and dimension set) the run emitted.
    pub custom_metrics: f64,
    pub kms_keys: f64,
    /// The canary's runs a month (one a minute) and one run's cost.
    pub canary_runs: f64,
    pub canary_run: Vec<Line>,
}

pub fn fixed_lines(fixed: &Fixed) -> Vec<Line> {
    let p = &PRICES;
    let canary: f64 = fixed.canary_run.iter().map(|l| l.dollars).sum::<f64>() / MILLION;
    vec![
        Line {
            service: "CloudWatch",
            item: "dashboards".to_owned(),
            per_order: fixed.dashboards,
            unit: "dashboards",
            dollars: fixed.dashboards * p.dashboard_per_month,
        },
        Line {
            service: "CloudWatch",
            item: "alarm metrics (standard resolution)".to_owned(),
            per_order: fixed.alarm_metrics,
            unit: "metrics",
            dollars: fixed.alarm_metrics * p.alarm_metric_per_month,
        },
        Line {
            service: "CloudWatch",
            item: "composite alarms".to_owned(),
            per_order: fixed.composite_alarms,
            unit: "alarms",
            dollars: fixed.composite_alarms * p.composite_alarm_per_month,
        },
        Line {
            service: "CloudWatch",
            item: "custom metrics emitted in the run (EMF)".to_owned(),
            per_order: fixed.custom_metrics,
            unit: "metrics",
            dollars: fixed.custom_metrics * p.custom_metric_per_month,
        },
        Line {
            service: "KMS",
            item: "customer managed keys".to_owned(),
            per_order: fixed.kms_keys,
            unit: "keys",
            dollars: fixed.kms_keys * p.kms_key_per_month,
        },
        Line {
            service: "Canary",
            item: "one run a minute (its Lambda, API and log costs)".to_owned(),
            per_order: fixed.canary_runs,
            unit: "runs",
            dollars: fixed.canary_runs * canary,
        },
    ]
}

/// Dollars a month for keeping `bytes` of tables (storage and point-in-time recovery).
pub fn storage_per_gb_month() -> (f64, f64) {
    (
        PRICES.dynamodb_storage_per_gb_month,
        PRICES.pitr_per_gb_month,
    )
}

/// A Markdown table of `lines` with their total.
pub fn table(lines: &[Line], quantity_header: &str, total_label: &str) -> String {
    let mut out = format!("| Service | What | {quantity_header} | $ |\n|---|---|---:|---:|\n");
    for line in lines {
        let _ = writeln!(
            out,
            "| {} | {} | {} {} | {:.2} |",
            line.service,
            line.item,
            quantity(line.per_order),
            line.unit,
            line.dollars
        );
    }
    let total: f64 = lines.iter().map(|l| l.dollars).sum();
    let _ = writeln!(out, "| **{total_label}** | | | **{total:.2}** |");
    out
}

/// A count or size as a reader takes it in: three significant figures.
pub fn quantity(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs().log10().floor();
    let decimals = (2.0 - magnitude).clamp(0.0, 6.0);
    format!("{value:.*}", decimals_usize(decimals))
}

fn decimals_usize(decimals: f64) -> usize {
    // 0..=6 by the clamp above.
    (0..=6)
        .find(|d| f64::from(*d) >= decimals)
        .map_or(6, |d| usize::try_from(d).unwrap_or(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, invocations: f64, aws_calls: f64, saga_task: bool) -> FunctionUse {
        FunctionUse {
            function: name.to_owned(),
            memory_mb: 256,
            invocations,
            aws_calls,
            log_bytes: 1000.0,
            log_lines: 4.0,
            saga_task,
        }
    }

    fn usage() -> Usage {
        Usage {
            orders: 10.0,
            api_requests: 20.0,
            functions: vec![
                function("OrdersHttpFunction", 20.0, 60.0, false),
                function("InventoryTasksFunction", 10.0, 10.0, true),
            ],
            read_units: 50.0,
            write_units: 100.0,
            events_put: 40.0,
            executions: 10.0,
            state_transitions: 30.0,
            task_states: 30.0,
            ..Usage::default()
        }
    }

    fn dollars(lines: &[Line], service: &str, item: &str) -> f64 {
        lines
            .iter()
            .filter(|l| l.service == service && l.item.starts_with(item))
            .map(|l| l.dollars)
            .sum()
    }

    #[test]
    fn each_count_is_priced_per_million_orders() {
        let lines = bill(&usage(), Workflow::Standard, &ASSUMPTIONS);
        // 2 requests an order: $2 per million orders at $1 per million.
        assert!((dollars(&lines, "API Gateway", "HTTP API") - 2.0).abs() < 1e-9);
        // 10 WRU an order at $0.625 per million.
        assert!((dollars(&lines, "DynamoDB", "on-demand write") - 6.25).abs() < 1e-9);
        // 3 transitions an order at $0.025 per thousand: $75.
        assert!((dollars(&lines, "Step Functions", "Standard") - 75.0).abs() < 1e-9);
        // 3 invocations an order at $0.20 per million.
        assert!((dollars(&lines, "Lambda", "requests") - 0.6).abs() < 1e-9);
        // orders-http: 3 calls an invocation, 16 ms (15.3 rounded up) at 256 MB, twice an
        // order; the task: one call, 6 ms, once an order.
        let gb_s = (2.0 * 0.016 + 0.006) * 0.25;
        let expected = gb_s * MILLION * PRICES.lambda_arm_gb_second;
        assert!((dollars(&lines, "Lambda", "duration") - expected).abs() < 1e-6);
    }

    #[test]
    fn express_bills_requests_and_duration_instead_of_transitions() {
        let lines = bill(&usage(), Workflow::Express, &ASSUMPTIONS);
        assert!(dollars(&lines, "Step Functions", "Standard").abs() < f64::EPSILON);
        assert!((dollars(&lines, "Step Functions", "Express requests") - 1.0).abs() < 1e-9);
        // Per execution: 6 ms of task and 3 × 25 ms of overhead, 81 ms, billed as 100 ms at
        // 64 MB.
        let expected = 0.1 * 64.0 / 1024.0 * MILLION * PRICES.sfn_express_gb_second;
        assert!((dollars(&lines, "Step Functions", "Express duration") - expected).abs() < 1e-9);
    }

    #[test]
    fn traces_leave_out_the_saga_tasks_and_count_each_execution() {
        assert!((traces(&usage()) - 30.0).abs() < f64::EPSILON);
    }

    #[test]
    fn sampling_records_one_trace_a_second_then_five_percent() {
        // A million orders a month are 0.386 a second: 3 traces an order are 1.16 a second,
        // of which 1 + 5% of 0.16 are recorded: 2.61 per order.
        let per_order = sampled_traces_per_order(3.0, &ASSUMPTIONS);
        let rate = 1_000_000.0 / SECONDS_A_MONTH;
        assert!((per_order - (1.0 + 0.05 * (3.0 * rate - 1.0)) / rate).abs() < 1e-9);
        // Below one a second everything is recorded.
        assert!((sampled_traces_per_order(1.0, &ASSUMPTIONS) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn quantities_keep_three_significant_figures() {
        assert_eq!(quantity(1234.7), "1235");
        assert_eq!(quantity(2.345_6), "2.35");
        assert_eq!(quantity(0.012_345), "0.0123");
        assert_eq!(quantity(0.0), "0");
    }
}
