//! Whether anything happened that an idle poller should look at. devstack reads moto on behalf
//! of AWS services that watch for changes themselves (SQS depth metrics, executions, rule
//! deliveries), and every read costs moto's one Python process. So idle pollers wait for a
//! call that may have changed something (every write passing the edge, every send devstack
//! makes itself) instead of asking moto on a short timer. A rest stack then costs nothing.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{Notify, watch};

#[derive(Debug, Clone)]
pub struct Activity {
    changes: Arc<watch::Sender<u64>>,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            changes: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Activity {
    /// Something may have changed.
    pub fn touch(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn watch(&self) -> Watcher {
        Watcher {
            changes: self.changes.subscribe(),
        }
    }
}

/// One poller's view: what it has seen so far.
#[derive(Debug)]
pub struct Watcher {
    changes: watch::Receiver<u64>,
}

impl Watcher {
    /// Marks everything so far as seen: call it before reading, so a change during the read
    /// still ends the next wait.
    pub fn mark_seen(&mut self) {
        self.changes.borrow_and_update();
    }

    /// Waits for a change not yet seen, or `at_most`.
    pub async fn wait(&mut self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.changes.changed()).await;
    }
}

/// Writes to DynamoDB tables passing the edge, per table: a stream mapping wakes for a write
/// to its own table only, not for every write (each wake is a read of moto).
#[derive(Debug, Clone, Default)]
pub struct TableWrites {
    tables: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
}

impl TableWrites {
    /// What a write to `table` (its name, ARN or stream's ARN) notifies.
    pub fn of(&self, table: &str) -> Arc<Notify> {
        let mut tables = self.tables.lock().expect("the table write signals");
        tables
            .entry(table_name(table).to_owned())
            .or_default()
            .clone()
    }

    /// A write to `table` (its name or ARN) passed.
    pub fn wrote(&self, table: &str) {
        let name = table_name(table);
        let notify = self
            .tables
            .lock()
            .expect("the table write signals")
            .get(name)
            .cloned();
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }
}

/// The table a name, table ARN or stream ARN names (`arn:…:table/NAME[/stream/LABEL]`).
pub fn table_name(name_or_arn: &str) -> &str {
    name_or_arn
        .split_once(":table/")
        .map_or(name_or_arn, |(_, rest)| {
            rest.split_once('/').map_or(rest, |(name, _)| name)
        })
}

/// The tables a DynamoDB write request writes to (what its stream records will be about).
pub fn written_tables(operation: &str, body: &[u8]) -> Vec<String> {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let named = |v: &serde_json::Value| v["TableName"].as_str().map(str::to_owned);
    match operation {
        "PutItem" | "UpdateItem" | "DeleteItem" => named(&request).into_iter().collect(),
        "BatchWriteItem" => request["RequestItems"]
            .as_object()
            .map(|tables| tables.keys().cloned().collect())
            .unwrap_or_default(),
        "TransactWriteItems" => request["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                ["Put", "Update", "Delete"]
                    .iter()
                    .find_map(|kind| named(&item[*kind]))
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_during_the_read_ends_the_next_wait_at_once() {
        let activity = Activity::default();
        let mut watcher = activity.watch();
        watcher.mark_seen();
        activity.touch();

        let waited = tokio::time::timeout(
            Duration::from_secs(5),
            watcher.wait(Duration::from_hours(1)),
        )
        .await;

        assert!(
            waited.is_ok(),
            "the change seen after mark_seen ends the wait"
        );
    }

    #[tokio::test]
    async fn without_a_change_an_idle_poller_keeps_waiting() {
        let activity = Activity::default();
        let mut watcher = activity.watch();
        activity.touch();
        watcher.mark_seen();

        let waited = tokio::time::timeout(
            Duration::from_millis(200),
            watcher.wait(Duration::from_hours(1)),
        )
        .await;

        assert!(
            waited.is_err(),
            "a change already seen does not end the wait"
        );
    }

    #[tokio::test]
    async fn a_write_wakes_the_mappings_of_its_own_table_only() {
        let writes = TableWrites::default();
        let orders = writes.of("orders");
        let stock = writes.of("stock");
        let orders_woken = orders.notified();
        let stock_woken = stock.notified();
        tokio::pin!(orders_woken, stock_woken);
        orders_woken.as_mut().enable();
        stock_woken.as_mut().enable();

        writes.wrote("arn:aws:dynamodb:us-east-1:123456789012:table/orders");

        assert!(
            tokio::time::timeout(Duration::from_secs(5), orders_woken)
                .await
                .is_ok()
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(100), stock_woken)
                .await
                .is_err(),
            "a write to another table does not wake it"
        );
    }

    #[test]
    fn the_written_tables_are_read_from_each_kind_of_write() {
        assert_eq!(
            written_tables("PutItem", br#"{"TableName": "a", "Item": {}}"#),
            ["a"]
        );
        let mut batch =
            written_tables("BatchWriteItem", br#"{"RequestItems": {"a": [], "b": []}}"#);
        batch.sort();
        assert_eq!(batch, ["a", "b"]);
        assert_eq!(
            written_tables(
                "TransactWriteItems",
                br#"{"TransactItems": [{"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}, {"Update": {"TableName": "c"}}, {"Delete": {"TableName": "d"}}]}"#
            ),
            ["a", "c", "d"],
            "a condition check writes nothing"
        );
        assert!(written_tables("PutItem", b"not json").is_empty());
        assert_eq!(
            table_name("arn:aws:dynamodb:us-east-1:1:table/orders/stream/2026-01-01T00:00:00.000"),
            "orders"
        );
        assert_eq!(table_name("orders"), "orders");
    }
}
