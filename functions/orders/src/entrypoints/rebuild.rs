//! Rebuilding the read model from the event store, and verifying it (run by `orders-rebuild`,
//! from the CLI or as a Lambda function).
//!
//! The event store is the truth: views and totals are dropped and folded again from every
//! stored event. Verification folds the store the same way and compares with the live views.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::{
    adapters::{EventStore, OrderView, ReadModel, ReadModelError, StoreError, StoredEvent},
    domain::fold,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    pub deleted: usize,
    pub events: usize,
    pub orders: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub orders: usize,
    /// One line per order whose live view differs from the folded events.
    pub differences: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Rebuild {
    pub store: EventStore,
    pub views: ReadModel,
}

impl Rebuild {
    /// Drops every view and total and folds them again from the event store; each view is a
    /// first view again, written with its count in the totals.
    pub async fn rebuild(&self, progress: impl Fn(&str)) -> Result<RebuildReport, ReadModelError> {
        let deleted = self.views.clear().await?;
        progress(&format!("dropped {deleted} read-model items"));
        let (events, expected) = self.expected_views(&progress).await?;
        for (index, view) in expected.values().enumerate() {
            self.views.put_first(view).await?;
            if (index + 1) % 100 == 0 {
                progress(&format!(
                    "rebuilt {} of {} orders",
                    index + 1,
                    expected.len()
                ));
            }
        }
        progress(&format!(
            "rebuilt {} orders from {events} events",
            expected.len()
        ));
        Ok(RebuildReport {
            deleted,
            events,
            orders: expected.len(),
        })
    }

    /// Compares the live views with the views the event store folds to.
    pub async fn verify(&self, progress: impl Fn(&str)) -> Result<VerifyReport, StoreError> {
        let (_, expected) = self.expected_views(&progress).await?;
        let live: HashMap<String, OrderView> = self
            .views
            .all_views()
            .await?
            .into_iter()
            .map(|view| (view.order_id.clone(), view))
            .collect();
        let mut differences = Vec::new();
        for (id, view) in &expected {
            match live.get(id) {
                None => differences.push(format!("{id}: missing from the read model")),
                Some(found) if found != view => differences.push(format!(
                    "{id}: live view at version {} ({:?}), events give version {} ({:?})",
                    found.version, found.status, view.version, view.status
                )),
                Some(_) => {}
            }
        }
        for id in live.keys().filter(|id| !expected.contains_key(*id)) {
            differences.push(format!(
                "{id}: in the read model but not in the event store"
            ));
        }
        differences.sort();
        progress(&format!(
            "verified {} orders: {} differences",
            expected.len(),
            differences.len()
        ));
        Ok(VerifyReport {
            orders: expected.len(),
            differences,
        })
    }

    /// Every order's view as its events fold, and how many events there were.
    async fn expected_views(
        &self,
        progress: &impl Fn(&str),
    ) -> Result<(usize, BTreeMap<String, OrderView>), StoreError> {
        let mut by_order: BTreeMap<String, Vec<StoredEvent>> = BTreeMap::new();
        let mut events = 0;
        let mut failed = None;
        self.store
            .scan(|page| {
                events += page.len();
                for event in page {
                    by_order
                        .entry(event.order_id.clone())
                        .or_default()
                        .push(event);
                }
                progress(&format!("read {events} events"));
            })
            .await?;
        let mut views = BTreeMap::new();
        for (order_id, mut history) in by_order {
            history.sort_by_key(|event| event.sequence);
            let recorded = match history
                .iter()
                .map(StoredEvent::recorded)
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(recorded) => recorded,
                Err(error) => {
                    failed.get_or_insert(error);
                    continue;
                }
            };
            if let Some(order) = fold(&order_id, &recorded) {
                views.insert(order_id, OrderView::of(&order));
            }
        }
        match failed {
            Some(error) => Err(error),
            None => Ok((events, views)),
        }
    }
}
