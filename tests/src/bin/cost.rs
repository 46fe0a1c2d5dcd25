//! `make cost`: what a million orders cost on AWS at list prices, for the Standard and the
//! Express saga, from what devstack counted while a devstack of this tool's own took the
//! orders (see `system_tests::cost`). Prints Markdown (the tables of docs/cost.md) and keeps
//! the counters each table came from in `target/cost/<workflow>/counters.json`.
//!
//! `make cost ARGS="--orders 200 --concurrency 10 --workflow standard|express|both"`.

use std::{fmt::Write as _, process::ExitCode};

use system_tests::cost::{
    self, ASSUMPTIONS, Workflow,
    measure::{self, Measured, Settings},
    prices,
};

const USAGE: &str = "usage: cost [--orders N] [--concurrency N] [--workflow standard|express|both]
  --orders N       orders measured (default 200), after 3 to warm up
  --concurrency N  placed at once (default 10)
  --workflow W     the saga's workflow type(s) to measure (default both)";

struct Args {
    orders: usize,
    concurrency: usize,
    workflows: Vec<Workflow>,
}

fn args() -> Result<Args, String> {
    let mut parsed = Args {
        orders: 200,
        concurrency: 10,
        workflows: vec![Workflow::Standard, Workflow::Express],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| USAGE.to_owned())?;
        let number = || value.parse::<usize>().map_err(|_| USAGE.to_owned());
        match arg.as_str() {
            "--orders" => parsed.orders = number()?.max(1),
            "--concurrency" => parsed.concurrency = number()?.max(1),
            "--workflow" => {
                parsed.workflows = match value.as_str() {
                    "standard" => vec![Workflow::Standard],
                    "express" => vec![Workflow::Express],
                    "both" => vec![Workflow::Standard, Workflow::Express],
                    _ => return Err(USAGE.to_owned()),
                }
            }
            _ => return Err(USAGE.to_owned()),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cost: no Tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let workspace = system_tests::workspace();
    let mut report = format!("{}\n", prices::table());
    for workflow in &args.workflows {
        let name = workflow.parameter().to_lowercase();
        let settings = Settings {
            orders: args.orders,
            concurrency: args.concurrency,
            workflow: *workflow,
            out_dir: workspace.join("target/cost").join(&name),
            build: std::env::var_os("DEVSTACK_NO_BUILD").is_none(),
        };
        let measured = match runtime.block_on(measure::run(&workspace, &settings)) {
            Ok(measured) => measured,
            Err(error) => {
                eprintln!("cost: the {name} run failed: {error}");
                return ExitCode::FAILURE;
            }
        };
        let counters = settings.out_dir.join("counters.json");
        if let Err(error) = std::fs::write(
            &counters,
            serde_json::to_string_pretty(&measured.counters).unwrap_or_default(),
        ) {
            eprintln!("cost: cannot write {}: {error}", counters.display());
        }
        report.push_str(&section(*workflow, measured));
        let _ = write!(report, "Counters: `{}`.\n\n", counters.display());
    }
    println!("{report}");
    ExitCode::SUCCESS
}

/// One workflow type's tables: per million orders, the log bytes per order by source, and the
/// fixed monthly costs.
fn section(workflow: Workflow, mut measured: Measured) -> String {
    let usage = &measured.usage;
    let lines = cost::bill(usage, workflow, &ASSUMPTIONS);
    let mut out = format!(
        "## {} saga: {} orders measured\n\n",
        workflow.parameter(),
        usage.orders
    );
    out.push_str(&cost::table(&lines, "Per order", "Per million orders"));
    out.push_str("\nLog bytes per order, by source (CloudWatch's per-event overhead included):\n\n| Source | Bytes |\n|---|---:|\n");
    for (source, bytes) in usage.log_bytes(&ASSUMPTIONS) {
        if bytes > 0.0 {
            let _ = writeln!(out, "| {source} | {bytes:.0} |");
        }
    }
    let (storage, pitr) = cost::storage_per_gb_month();
    let gb_per_million = usage.stored_bytes / usage.orders.max(1.0) * 1e6 / 1_073_741_824.0;
    let _ = write!(
        out,
        "\nTables: {:.0} bytes stored per order, {gb_per_million:.2} GB per million orders kept: ${:.2} a month for storage and ${:.2} for point-in-time recovery while they are kept.\n\n",
        usage.stored_bytes / usage.orders.max(1.0),
        gb_per_million * storage,
        gb_per_million * pitr
    );
    let canary_usage = &measured.canary;
    measured.fixed.canary_run = cost::bill(canary_usage, workflow, &ASSUMPTIONS);
    out.push_str(&cost::table(
        &cost::fixed_lines(&measured.fixed),
        "Quantity",
        "Fixed, a month",
    ));
    out.push('\n');
    out
}
