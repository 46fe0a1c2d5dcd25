//! The Invoke API's behaviour: find a function by name, ARN or logical id, and run an
//! invocation synchronously or as an event.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use bytes::Bytes;

use super::{
    FunctionPool, FunctionSpec, Outcome, destination::send_failure_record, versions::Code,
};
use crate::{counters::Counter, logs::LogSink, monitoring::MetricKey, stack::Controls};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    /// Asynchronous: accepted at once; Lambda retries a failed event twice.
    Event,
    DryRun,
}

impl InvocationType {
    pub fn from_header(value: Option<&str>) -> Self {
        match value {
            Some("Event") => Self::Event,
            Some("DryRun") => Self::DryRun,
            _ => Self::RequestResponse,
        }
    }
}

/// Lambda's pauses before the retries of a failed asynchronous invocation: one minute before
/// the second attempt, two before the third. devstack divides them by the stage's time scale.
const ASYNC_RETRY_DELAYS: [Duration; 2] = [Duration::from_mins(1), Duration::from_mins(2)];

/// What asynchronous invocations need besides the functions.
#[derive(Debug, Clone)]
pub struct AsyncContext {
    /// Sends failed events to on-failure destinations.
    pub sqs: aws_sdk_sqs::Client,
    /// The counters, and the time scale AWS's waits are divided by.
    pub controls: Controls,
}

/// Every function of the stack: the template's, and any created through the Lambda API.
#[derive(Debug, Clone)]
pub struct Lambda {
    pools: Arc<RwLock<HashMap<String, Arc<FunctionPool>>>>,
    asynchronous: Arc<AsyncContext>,
    logs: LogSink,
}

/// A function reference split as Lambda reads it: `name`, `name:qualifier`, or an ARN with or
/// without the qualifier.
pub fn split_reference(reference: &str) -> (&str, Option<&str>) {
    let unqualified = if reference.starts_with("arn:") {
        reference.splitn(7, ':').nth(6).unwrap_or_default()
    } else {
        reference
    };
    match unqualified.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (unqualified, None),
    }
}

impl Lambda {
    pub fn new(pools: Vec<FunctionPool>, asynchronous: AsyncContext, logs: LogSink) -> Self {
        let lambda = Self {
            pools: Arc::default(),
            asynchronous: Arc::new(asynchronous),
            logs,
        };
        for pool in pools {
            lambda.add(pool);
        }
        lambda
    }

    /// Adds a function, known by its name and its logical id (the name for a function
    /// created through the API).
    pub fn add(&self, pool: FunctionPool) -> Arc<FunctionPool> {
        let pool = Arc::new(pool);
        let mut pools = self.pools.write().expect("functions");
        pools.insert(pool.spec().name.clone(), pool.clone());
        pools.insert(pool.spec().logical_id.clone(), pool.clone());
        pool
    }

    /// A function created through the Lambda API, with its first code.
    pub fn create(&self, spec: FunctionSpec, code: Code) -> Arc<FunctionPool> {
        let controls = &self.asynchronous.controls;
        self.add(FunctionPool::with_code(
            spec,
            code,
            self.logs.clone(),
            controls.faults.clone(),
            controls.monitoring.clone(),
        ))
    }

    /// The function a name, a logical id or an ARN (with or without qualifier) refers to.
    pub fn function(&self, reference: &str) -> Option<Arc<FunctionPool>> {
        let (name, _) = split_reference(reference);
        self.pools.read().expect("functions").get(name).cloned()
    }

    /// Every function once, by name.
    pub fn functions(&self) -> Vec<Arc<FunctionPool>> {
        let mut functions: Vec<_> = self
            .pools
            .read()
            .expect("functions")
            .iter()
            .filter(|(key, pool)| **key == pool.spec().name)
            .map(|(_, pool)| pool.clone())
            .collect();
        functions.sort_by(|a, b| a.spec().name.cmp(&b.spec().name));
        functions
    }

    /// Runs an invocation of the version or alias the reference names to its end. `None` when
    /// no such function exists.
    pub async fn invoke(&self, reference: &str, payload: Bytes) -> Option<Outcome> {
        let pool = self.function(reference)?;
        let (_, qualifier) = split_reference(reference);
        Some(pool.invoke(qualifier, payload).await)
    }

    /// Queues an asynchronous invocation (an `Event` invoke, or a rule delivering to the
    /// function). `false` when no such function exists.
    ///
    /// As Lambda does: a failed event is retried `MaximumRetryAttempts` times (default 2),
    /// one and then two minutes apart, while it is younger than `MaximumEventAgeInSeconds`;
    /// then it goes to the function's on-failure destination with the request and the
    /// error, or, without one, it is lost. devstack says so loudly and counts it.
    pub fn invoke_event(&self, reference: &str, payload: Bytes) -> bool {
        let Some(pool) = self.function(reference) else {
            return false;
        };
        let qualifier = split_reference(reference).1.map(str::to_owned);
        let context = self.asynchronous.clone();
        tokio::spawn(async move {
            run_event(&pool, qualifier.as_deref(), &context, payload).await;
        });
        true
    }
}

/// Why an asynchronous invocation was given up, as the on-failure record names it.
#[derive(Debug, Clone, Copy)]
enum GivenUp {
    RetriesExhausted,
    EventAgeExceeded,
}

async fn run_event(
    pool: &FunctionPool,
    qualifier: Option<&str>,
    context: &AsyncContext,
    payload: Bytes,
) {
    let spec = pool.spec();
    let config = &spec.async_invoke;
    let scale = context.controls.time_scale.max(1);
    let received = Instant::now();
    let max_age = config.max_event_age / scale;
    let mut attempts = 0_u32;
    let (condition, error) = loop {
        attempts += 1;
        context
            .controls
            .counters
            .add(Counter::AsyncAttempt, &spec.logical_id);
        // Lambda's age of the event when this attempt starts, scaled back to AWS's clock.
        context.controls.monitoring.put(
            MetricKey::new(
                "AWS/Lambda",
                "AsyncEventAge",
                &[("FunctionName", &spec.name)],
            ),
            received.elapsed().as_secs_f64() * 1000.0 * f64::from(scale),
            "Milliseconds",
        );
        let error = match pool.invoke(qualifier, payload.clone()).await {
            Outcome::Success(_) => return,
            Outcome::Error { body, .. } => body,
        };
        if attempts > config.max_retries {
            break (GivenUp::RetriesExhausted, error);
        }
        let index = usize::try_from(attempts - 1).unwrap_or(usize::MAX);
        let delay = ASYNC_RETRY_DELAYS[index.min(ASYNC_RETRY_DELAYS.len() - 1)] / scale;
        if received.elapsed() + delay > max_age {
            break (GivenUp::EventAgeExceeded, error);
        }
        tokio::time::sleep(delay).await;
    };
    let record = failure_record(spec, condition, attempts, &payload, &error);
    let sent = send_failure_record(&context.sqs, config.on_failure.as_deref(), &record).await;
    context.controls.activity.touch();
    match sent {
        Ok(()) => {
            context
                .controls
                .counters
                .add(Counter::AsyncParked, &spec.logical_id);
            pool.log(&format!(
                "parked: asynchronous invocation failed after {attempts} attempts ({condition:?}); sent to the on-failure destination"
            ));
            tracing::warn!(function = %spec.logical_id, ?condition, attempts, "asynchronous invocation failed; the event is parked in the on-failure destination");
        }
        Err(why) => {
            context
                .controls
                .counters
                .add(Counter::AsyncLost, &spec.logical_id);
            pool.log(&format!(
                "lost: asynchronous invocation failed after {attempts} attempts ({condition:?}) and is dropped: {why}"
            ));
            tracing::error!(function = %spec.logical_id, ?condition, attempts, %why, event = %String::from_utf8_lossy(&payload), "lost: asynchronous invocation failed and the event is dropped, as Lambda drops it without an on-failure destination");
        }
    }
}

/// The record Lambda sends to an on-failure destination: the whole request, so it can be
/// redriven, and the function's error.
fn failure_record(
    spec: &FunctionSpec,
    condition: GivenUp,
    attempts: u32,
    payload: &[u8],
    error: &[u8],
) -> serde_json::Value {
    let as_json = |bytes: &[u8]| {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into()))
    };
    serde_json::json!({
        "version": "1.0",
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": format!("{}:$LATEST", spec.arn),
            "condition": format!("{condition:?}"),
            "approximateInvokeCount": attempts,
        },
        "requestPayload": as_json(payload),
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": as_json(error),
    })
}

#[cfg(test)]
mod tests {
    use super::split_reference;

    #[test]
    fn references_split_into_name_and_qualifier_as_lambda_reads_them() {
        assert_eq!(split_reference("shop-Fn"), ("shop-Fn", None));
        assert_eq!(split_reference("shop-Fn:live"), ("shop-Fn", Some("live")));
        assert_eq!(
            split_reference("arn:aws:lambda:us-east-1:123456789012:function:shop-Fn"),
            ("shop-Fn", None)
        );
        assert_eq!(
            split_reference("arn:aws:lambda:us-east-1:123456789012:function:shop-Fn:3"),
            ("shop-Fn", Some("3"))
        );
    }
}
