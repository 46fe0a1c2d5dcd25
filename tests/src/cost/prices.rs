//! AWS list prices in us-east-1, in one place, for the cost model. Free tiers are left out
//! (they are per account, not per shop), and so are volume discounts (every figure is the
//! first tier: the shop is far below the next). Where a price changed, the one in force is
//! here: DynamoDB's on-demand request units were halved on 2024-11-01.
//!
//! AWS's published list prices as known when the table was written; this machine reaches no
//! AWS page, so none was fetched that day (the DynamoDB and Step Functions rows were compared
//! with copies of their pages). Check the pages before relying on a figure:
//! <https://aws.amazon.com/api-gateway/pricing/>,
//! <https://aws.amazon.com/lambda/pricing/>, <https://aws.amazon.com/dynamodb/pricing/on-demand/>,
//! <https://aws.amazon.com/eventbridge/pricing/>, <https://aws.amazon.com/step-functions/pricing/>,
//! <https://aws.amazon.com/cloudwatch/pricing/>, <https://aws.amazon.com/xray/pricing/>,
//! <https://aws.amazon.com/kms/pricing/>.

use std::fmt::Write as _;

/// When the table below was written.
pub const PRICES_AS_OF: &str = "2026-11-28";
pub const REGION: &str = "us-east-1";

/// Dollars, each per the unit its name says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// HTTP API requests (up to 512 KB each), first 300 million a month.
    pub http_api_per_million: f64,
    pub lambda_requests_per_million: f64,
    /// Lambda duration on arm64 (Graviton), first 7.5 billion GB-s a month.
    pub lambda_arm_gb_second: f64,
    /// On-demand write and read request units.
    pub dynamodb_write_per_million: f64,
    pub dynamodb_read_per_million: f64,
    pub dynamodb_storage_per_gb_month: f64,
    /// Continuous backups (point-in-time recovery), per GB of table a month.
    pub pitr_per_gb_month: f64,
    /// Custom events put on a bus (each 64 KB chunk is one event).
    pub eventbridge_per_million: f64,
    /// Events written to an archive, per GB.
    pub eventbridge_archive_per_gb: f64,
    pub sfn_standard_per_1k_transitions: f64,
    pub sfn_express_per_million: f64,
    /// Express duration, first 1,000 GB-hours a month ($0.06 per GB-hour).
    pub sfn_express_gb_second: f64,
    /// Express bills memory in 64 MB steps; a definition and payloads this small take one.
    pub sfn_express_memory_mb: f64,
    /// CloudWatch Logs ingestion (standard log class; vended logs such as Step Functions' are
    /// priced the same in their first tier) and storage.
    pub logs_ingestion_per_gb: f64,
    pub logs_storage_per_gb_month: f64,
    /// First 10,000 custom metrics a month.
    pub custom_metric_per_month: f64,
    pub dashboard_per_month: f64,
    /// Standard-resolution alarm, per metric it reads.
    pub alarm_metric_per_month: f64,
    pub composite_alarm_per_month: f64,
    pub xray_traces_per_million: f64,
    pub kms_key_per_month: f64,
    pub kms_per_10k_requests: f64,
}

pub const PRICES: Prices = Prices {
    http_api_per_million: 1.00,
    lambda_requests_per_million: 0.20,
    lambda_arm_gb_second: 0.000_013_333_4,
    dynamodb_write_per_million: 0.625,
    dynamodb_read_per_million: 0.125,
    dynamodb_storage_per_gb_month: 0.25,
    pitr_per_gb_month: 0.20,
    eventbridge_per_million: 1.00,
    eventbridge_archive_per_gb: 0.10,
    sfn_standard_per_1k_transitions: 0.025,
    sfn_express_per_million: 1.00,
    sfn_express_gb_second: 0.000_016_666_7,
    sfn_express_memory_mb: 64.0,
    logs_ingestion_per_gb: 0.50,
    logs_storage_per_gb_month: 0.03,
    custom_metric_per_month: 0.30,
    dashboard_per_month: 3.00,
    alarm_metric_per_month: 0.10,
    composite_alarm_per_month: 0.50,
    xray_traces_per_million: 5.00,
    kms_key_per_month: 1.00,
    kms_per_10k_requests: 0.03,
};

/// Each price's name and unit, in the order of [`Prices::values`].
const LABELS: [(&str, &str); 21] = [
    ("API Gateway HTTP API", "per million requests"),
    ("Lambda requests", "per million"),
    ("Lambda duration, arm64", "per GB-second"),
    ("DynamoDB on-demand writes", "per million WRU"),
    ("DynamoDB on-demand reads", "per million RRU"),
    ("DynamoDB storage", "per GB-month"),
    ("DynamoDB point-in-time recovery", "per GB-month"),
    ("EventBridge custom events", "per million"),
    ("EventBridge archive", "per GB archived"),
    ("Step Functions Standard", "per 1,000 state transitions"),
    ("Step Functions Express requests", "per million"),
    (
        "Step Functions Express duration",
        "per GB-second (64 MB steps, 100 ms steps)",
    ),
    ("CloudWatch Logs ingestion", "per GB"),
    ("CloudWatch Logs storage", "per GB-month (compressed)"),
    ("CloudWatch custom metrics", "per metric-month"),
    ("CloudWatch dashboards", "per dashboard-month"),
    ("CloudWatch alarms (standard)", "per alarm metric-month"),
    ("CloudWatch composite alarms", "per alarm-month"),
    ("X-Ray traces recorded", "per million"),
    ("KMS keys", "per key-month"),
    ("KMS requests", "per 10,000"),
];

impl Prices {
    fn values(&self) -> [f64; 21] {
        [
            self.http_api_per_million,
            self.lambda_requests_per_million,
            self.lambda_arm_gb_second,
            self.dynamodb_write_per_million,
            self.dynamodb_read_per_million,
            self.dynamodb_storage_per_gb_month,
            self.pitr_per_gb_month,
            self.eventbridge_per_million,
            self.eventbridge_archive_per_gb,
            self.sfn_standard_per_1k_transitions,
            self.sfn_express_per_million,
            self.sfn_express_gb_second,
            self.logs_ingestion_per_gb,
            self.logs_storage_per_gb_month,
            self.custom_metric_per_month,
            self.dashboard_per_month,
            self.alarm_metric_per_month,
            self.composite_alarm_per_month,
            self.xray_traces_per_million,
            self.kms_key_per_month,
            self.kms_per_10k_requests,
        ]
    }
}

/// The price table as Markdown, for docs/cost.md and `make cost`'s output.
pub fn table() -> String {
    let mut out = format!(
        "List prices, {REGION}, as of {PRICES_AS_OF} (first tier, free tiers left out):\n\n| Price | Unit | $ |\n|---|---|---:|\n"
    );
    for ((what, unit), dollars) in LABELS.iter().zip(PRICES.values()) {
        let _ = writeln!(out, "| {what} | {unit} | {dollars} |");
    }
    out
}
