//! `devstack run`'s dev loop: rebuild a function (`make build`, `cargo build ...`) and the
//! running stack takes the new binary for its next invocation, as a redeploy of that function
//! would: new code behind `$LATEST`, and for a function with `AutoPublishAlias` a new version
//! with the alias moved to it. Calls in flight finish on the code they started with
//! ([`super::versions`]). Off in the system tests, whose stack must run the code they started.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use super::{FunctionPool, Lambda, versions::Code};

/// How often the binaries' modification times are read: a `stat` per function.
const EVERY: Duration = Duration::from_secs(1);

/// What identifies one build of a binary.
type Stamp = (SystemTime, u64);

fn stamp(binary: &PathBuf) -> Option<Stamp> {
    let metadata = std::fs::metadata(binary).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Watches every function's binary until the task is aborted.
pub async fn watch(lambda: Lambda) {
    let functions: Vec<Arc<FunctionPool>> = lambda.functions();
    let mut seen: HashMap<String, Option<Stamp>> = functions
        .iter()
        .map(|pool| (pool.spec().name.clone(), stamp(&pool.spec().binary)))
        .collect();
    loop {
        tokio::time::sleep(EVERY).await;
        for pool in &functions {
            let binary = &pool.spec().binary;
            let now = stamp(binary);
            let before = seen.get(&pool.spec().name).copied().flatten();
            // A binary being written changes again within the second: take it once it holds.
            if now.is_none() || now == before {
                continue;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            if stamp(binary) != now {
                continue;
            }
            seen.insert(pool.spec().name.clone(), now);
            reload(pool, binary.clone());
        }
    }
}

fn reload(pool: &FunctionPool, binary: PathBuf) {
    let alias = pool.spec().alias.clone();
    let version = pool.versions(|versions| {
        let latest = versions.update_code(Arc::new(Code::built(binary)));
        match &alias {
            Some(alias) => versions
                .publish(Some("devstack: rebuilt".to_owned()), None)
                .and_then(|published| {
                    versions.update_alias(alias, Some(&published.version), None)?;
                    Ok(published.version.clone())
                })
                .unwrap_or_else(|_| latest.version.clone()),
            None => latest.version.clone(),
        }
    });
    pool.log(&format!(
        "binary rebuilt: the next invocations run it (version {version}); calls in flight finish on the code they started with"
    ));
    tracing::info!(function = %pool.spec().logical_id, %version, "reloaded a rebuilt binary");
}
