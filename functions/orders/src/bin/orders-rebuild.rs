//! Rebuilds or verifies the read model from the event store.
//!
//! From a shell, with the environment of the function (tables, and AWS_ENDPOINT_URL locally):
//!   `cargo run -p orders --bin orders-rebuild -- rebuild` (or `verify`)
//! As a Lambda function: `aws lambda invoke --function-name <name> --payload '{"mode":"verify"}' out.json`

use lambda_runtime::{LambdaEvent, service_fn};
use orders::{config, entrypoints::rebuild::Rebuild};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mode = std::env::args().nth(1);
    if mode.is_none() {
        shop_observability::logging::init(orders::SERVICE);
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(&shop_aws::load().await);
    let rebuild = Rebuild {
        store: config::event_store(&dynamodb)?,
        views: config::read_model(&dynamodb)?,
    };
    if let Some(mode) = mode.as_deref() {
        let report = run(&rebuild, mode, |line| eprintln!("orders-rebuild: {line}")).await?;
        println!("{report:#}");
        return Ok(());
    }
    rebuild.views.connect().await?;
    let rebuild = &rebuild;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let mode = event.payload["mode"]
            .as_str()
            .unwrap_or("verify")
            .to_owned();
        run(rebuild, &mode, |line| tracing::info!(progress = line)).await
    }))
    .await
}

async fn run(
    rebuild: &Rebuild,
    mode: &str,
    progress: impl Fn(&str),
) -> Result<Value, lambda_runtime::Error> {
    match mode {
        "rebuild" => Ok(json!(rebuild.rebuild(progress).await?)),
        "verify" => Ok(json!(rebuild.verify(progress).await?)),
        other => Err(format!("unknown mode {other:?}: use rebuild or verify").into()),
    }
}
