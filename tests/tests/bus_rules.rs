//! Every EventBridge rule in `infra/template.yaml` that feeds a function matches exactly the
//! event types that function's typed inbox takes: a type the rule sends but the inbox does not
//! take would be rejected on every delivery, and a type the inbox takes but no rule sends is
//! dead code that looks alive. The rule's `source` list is likewise exactly the publishers the
//! inbox accepts those types from.

// Test helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};

use devstack::template::{EventTarget, Template};
use inventory::entrypoints::bus::InventoryInbox;
use orders::entrypoints::bus::{
    catalog_sync::CatalogProducts, choreography::Choreography, saga::SagaStart,
};
use payments::entrypoints::bus::PaymentsInbox;
use shipping::entrypoints::bus::ShippingInbox;
use shop_events::Inbox;

/// Each bus consumer's binary, and the event types of its inbox with their publishers.
const INBOXES: &[(&str, &[&str], &[&str])] = &[
    (
        "orders-catalog-sync",
        CatalogProducts::TYPES,
        CatalogProducts::SOURCES,
    ),
    (
        "orders-choreography",
        Choreography::TYPES,
        Choreography::SOURCES,
    ),
    ("orders-saga-starter", SagaStart::TYPES, SagaStart::SOURCES),
    (
        "inventory-events",
        InventoryInbox::TYPES,
        InventoryInbox::SOURCES,
    ),
    (
        "payments-events",
        PaymentsInbox::TYPES,
        PaymentsInbox::SOURCES,
    ),
    (
        "shipping-events",
        ShippingInbox::TYPES,
        ShippingInbox::SOURCES,
    ),
];

#[test]
fn every_rule_into_a_function_sends_exactly_what_its_inbox_takes() {
    let path = shop_testkit::workspace_root().join("infra/template.yaml");
    let template = Template::load(&[path]).unwrap();
    let binaries: HashMap<String, String> = template
        .functions()
        .unwrap()
        .into_iter()
        .map(|function| (function.logical_id, function.binary))
        .collect();
    let inboxes: HashMap<&str, (&[&str], &[&str])> = INBOXES
        .iter()
        .map(|(binary, types, sources)| (*binary, (*types, *sources)))
        .collect();

    let mut fed = BTreeSet::new();
    let mut problems = Vec::new();
    for rule in template.rules().unwrap() {
        for target in &rule.targets {
            let EventTarget::Function { function, .. } = target else {
                continue;
            };
            let binary = binaries[function].as_str();
            let Some((types, sources)) = inboxes.get(binary) else {
                problems.push(format!(
                    "rule {} feeds {binary}, which has no inbox listed in this test",
                    rule.name
                ));
                continue;
            };
            fed.insert(binary);
            let listed = |key: &str| -> BTreeSet<&str> {
                rule.pattern[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|name| name.as_str())
                    .collect()
            };
            let taken: BTreeSet<&str> = types.iter().copied().collect();
            if listed("detail-type") != taken {
                problems.push(format!(
                    "rule {} sends {:?} to {binary}, whose inbox takes {taken:?}",
                    rule.name,
                    listed("detail-type")
                ));
            }
            let publishers: BTreeSet<&str> = sources.iter().copied().collect();
            if listed("source") != publishers {
                problems.push(format!(
                    "rule {} listens to {:?} for {binary}, whose inbox accepts {publishers:?}",
                    rule.name,
                    listed("source")
                ));
            }
        }
    }
    for (binary, _, _) in INBOXES {
        if !fed.contains(binary) {
            problems.push(format!("{binary} has an inbox, but no rule feeds it"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
