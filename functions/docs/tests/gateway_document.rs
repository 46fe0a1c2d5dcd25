//! The gateway's document is the services' documents merged (and committed, so every API change
//! shows in review), and it describes exactly the routes the template gives API Gateway, with
//! the same authorizer on each.

// Tests panic to fail.
#![allow(clippy::unwrap_used)]

use std::{collections::BTreeMap, path::Path};

use devstack::template::Template;
use docs::gateway_document::{ServiceDocument, merge};
use serde_json::Value;

/// The function that serves the documentation. Its routes (`/docs`, its files, the document)
/// are not in the document: they serve the API's description rather than being part of the
/// API, and `/docs/{file}` names files of Swagger UI, not a resource of the shop.
const DOCS_FUNCTION: &str = "DocsHttpFunction";

fn merged() -> Value {
    let services = [
        (auth::SERVICE, auth::entrypoints::http::openapi()),
        (catalog::SERVICE, catalog::entrypoints::http::openapi()),
        (orders::SERVICE, orders::entrypoints::http::openapi()),
        (inventory::SERVICE, inventory::entrypoints::http::openapi()),
        (payments::SERVICE, payments::entrypoints::http::openapi()),
        (shipping::SERVICE, shipping::entrypoints::http::openapi()),
    ]
    .map(|(service, document)| {
        ServiceDocument::new(service, serde_json::to_value(document).unwrap())
    });
    merge(&services).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn the_published_openapi_document_is_up_to_date() {
    let merged = merged();
    // Written through utoipa's model, as the services' documents are; nothing may be lost.
    let document: utoipa::openapi::OpenApi = serde_json::from_value(merged.clone()).unwrap();
    assert_eq!(serde_json::to_value(&document).unwrap(), merged);
    shop_testkit::assert_openapi_document("shop", &document);
}

/// `METHOD /path` → public (no token needed), for every HTTP API route of the template but the
/// docs function's.
fn template_routes() -> BTreeMap<String, bool> {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let template = Template::load(&[template]).unwrap();
    let functions = template.functions().unwrap();
    let docs = functions
        .iter()
        .find(|f| f.logical_id == DOCS_FUNCTION)
        .expect("the docs function is in the template");
    assert!(
        docs.http_routes().all(|route| route.public),
        "the documentation needs no token"
    );
    functions
        .iter()
        .filter(|f| f.logical_id != DOCS_FUNCTION)
        .flat_map(devstack::template::Function::http_routes)
        .map(|route| (format!("{} {}", route.method, route.path), route.public))
        .collect()
}

/// `METHOD /path` → public, for every operation of the merged document.
fn documented_routes(document: &Value) -> BTreeMap<String, bool> {
    let mut routes = BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let public = operation["security"] == serde_json::json!([]);
            routes.insert(format!("{} {path}", method.to_uppercase()), public);
        }
    }
    routes
}

#[test]
fn every_route_of_the_template_is_documented_and_every_documented_route_is_in_the_template() {
    let template = template_routes();
    let documented = documented_routes(&merged());
    assert!(template.len() > 20);
    let undocumented: Vec<&String> = template
        .keys()
        .filter(|r| !documented.contains_key(*r))
        .collect();
    let unrouted: Vec<&String> = documented
        .keys()
        .filter(|r| !template.contains_key(*r))
        .collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes of the template missing from the document: {undocumented:?}; operations of the \
         document no route serves: {unrouted:?}"
    );
}

#[test]
fn an_operation_is_public_exactly_where_the_template_skips_the_authorizer() {
    let template = template_routes();
    for (route, public) in documented_routes(&merged()) {
        assert_eq!(
            Some(&public),
            template.get(&route),
            "{route}: public in the document: {public}"
        );
    }
}

#[test]
fn every_operation_documents_the_gateway_answers_that_apply_to_it() {
    let document = merged();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let route = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().unwrap();
            let mut expected = vec!["429", "500"];
            if operation["security"] != serde_json::json!([]) {
                expected.push("401");
            }
            if operation.get("requestBody").is_some() {
                // 415 is the function's (a body not sent as JSON), 413 the function's and the
                // gateway's.
                expected.extend(["413", "415"]);
            }
            for status in expected {
                assert!(responses.contains_key(status), "{route} lacks {status}");
            }
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{route} {status} is not described"
                );
            }
        }
    }
}

#[test]
fn operation_ids_are_unique_and_every_reference_resolves() {
    let document = merged();
    let mut ids = std::collections::BTreeSet::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operation id {id} twice");
        }
    }
    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(references.len() > 50);
    for reference in references {
        let pointer = reference.strip_prefix('#').unwrap();
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} points nowhere"
        );
    }
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                match inner {
                    Value::String(target) if key == "$ref" => found.push(target.clone()),
                    other => collect_references(other, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, found)),
        _ => {}
    }
}
