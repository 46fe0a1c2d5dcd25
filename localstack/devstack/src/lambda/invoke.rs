//! The Invoke API's behaviour: find a function by name, ARN or logical id, and run an
//! invocation synchronously or as an event.

use std::{collections::HashMap, sync::Arc, time::Duration};

use bytes::Bytes;

use super::{FunctionPool, Outcome};

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

/// Retries Lambda makes of a failed asynchronous invocation, and the pause before each.
const EVENT_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

/// Every function of the stack.
#[derive(Debug, Clone, Default)]
pub struct Lambda {
    pools: Arc<HashMap<String, Arc<FunctionPool>>>,
}

impl Lambda {
    pub fn new(pools: Vec<FunctionPool>) -> Self {
        let mut by_name = HashMap::new();
        for pool in pools {
            let pool = Arc::new(pool);
            by_name.insert(pool.spec().name.clone(), pool.clone());
            by_name.insert(pool.spec().logical_id.clone(), pool);
        }
        Self {
            pools: Arc::new(by_name),
        }
    }

    /// The function a name, a logical id or an ARN (with or without qualifier) refers to.
    pub fn function(&self, reference: &str) -> Option<&Arc<FunctionPool>> {
        let name = if reference.starts_with("arn:") {
            reference.split(':').nth(6).unwrap_or_default()
        } else {
            reference.split(':').next().unwrap_or_default()
        };
        self.pools.get(name)
    }

    pub fn functions(&self) -> impl Iterator<Item = &Arc<FunctionPool>> {
        self.pools
            .iter()
            .filter(|(key, pool)| **key == pool.spec().name)
            .map(|(_, pool)| pool)
    }

    /// Runs an invocation to its end. `None` when no such function exists.
    pub async fn invoke(&self, reference: &str, payload: Bytes) -> Option<Outcome> {
        let pool = self.function(reference)?.clone();
        Some(pool.invoke(payload).await)
    }

    /// Queues an asynchronous invocation, retried like Lambda retries events. `false` when no
    /// such function exists.
    pub fn invoke_event(&self, reference: &str, payload: Bytes) -> bool {
        let Some(pool) = self.function(reference).cloned() else {
            return false;
        };
        tokio::spawn(async move {
            let mut outcome = pool.invoke(payload.clone()).await;
            for delay in EVENT_RETRY_DELAYS {
                if outcome.is_success() {
                    return;
                }
                tokio::time::sleep(delay).await;
                outcome = pool.invoke(payload.clone()).await;
            }
            if let Outcome::Error { error_type, .. } = outcome {
                tracing::error!(function = %pool.spec().name, %error_type, "asynchronous invocation failed after its retries; the event is dropped as in Lambda without an on-failure destination");
            }
        });
        true
    }
}
