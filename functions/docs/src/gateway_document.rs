//! The gateway's OpenAPI document: the services' documents merged into the one API a client
//! meets at API Gateway, with what the gateway adds in front of every function.
//!
//! Each addition is a fact of `infra/template.yaml`:
//! - The HTTP API's default authorizer is the Cognito JWT authorizer, so the document's default
//!   security requirement is `bearer`. An operation its service documents without one is a route
//!   marked `Auth: Authorizer: NONE`, and gets `security: []`, which lifts the default (this
//!   crate's route test holds the document and the template to each other).
//! - The gateway answers some requests itself, as `application/json` `{"message": ...}`, before
//!   or instead of the function: 401 on a route with the authorizer (no valid token), 413 on an
//!   operation with a body (larger than the gateway or Lambda takes), 429 on every route (the
//!   stage's throttling, `DefaultRouteSettings`) and 500 on every route (the function crashed,
//!   timed out or could not be invoked). Its 404 answers a path no route matches, so it belongs
//!   to no operation: the API's description names it. 415 is the functions' own
//!   (`shop_http::JsonBody`) and already in their documents.
//! - A component schema two services define differently is renamed in each of them to the
//!   service's name followed by its own (`OrdersAccepted`), references included; one defined
//!   alike everywhere (the shared problem+json types) is kept once. An operation id two services
//!   use (`health`) becomes `<service>_<id>`. Which names change depends on the documents alone,
//!   so every run gives the same document.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// Where a `$ref` to a component schema points.
const SCHEMA_REF: &str = "#/components/schemas/";
/// The gateway's own answer body, a schema the merged document adds.
const GATEWAY_MESSAGE: &str = "GatewayMessage";
/// The problem+json schema every service shares (`shop_http::Problem`).
const PROBLEM: &str = "Problem";
/// The security scheme: a Cognito JWT, checked by the gateway's authorizer.
const BEARER: &str = "bearer";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One service's OpenAPI document.
#[derive(Debug, Clone)]
pub struct ServiceDocument {
    /// The service's name, as in its crate and its health route (`catalog`).
    pub service: String,
    pub document: Value,
}

impl ServiceDocument {
    pub fn new(service: &str, document: Value) -> Self {
        Self {
            service: service.to_owned(),
            document,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("{service}'s document is not OpenAPI 3.1 (openapi: {found})")]
    NotOpenApi31 { service: String, found: String },
    #[error("{route} is in the documents of both {first} and {second}")]
    DuplicateRoute {
        route: String,
        first: String,
        second: String,
    },
    #[error("operation id {id} would be used twice, by {route} and {other}")]
    DuplicateOperationId {
        id: String,
        route: String,
        other: String,
    },
    #[error("{service} requires the security scheme {scheme}; the gateway's is `bearer`")]
    UnknownSecurityScheme { service: String, scheme: String },
    #[error("{service}'s schema {name} would be renamed {renamed}, a name already taken")]
    RenameTaken {
        service: String,
        name: String,
        renamed: String,
    },
    #[error("{service} defines the schema {name}, which the gateway's document reserves")]
    ReservedName { service: String, name: String },
    #[error("no service defines the problem+json schema `Problem`")]
    NoProblemSchema,
    #[error("tag {name} is described differently by {first} and {second}")]
    TagMismatch {
        name: String,
        first: String,
        second: String,
    },
}

/// The gateway's document, merged from `services` (in the order given, which orders the tags).
pub fn merge(services: &[ServiceDocument]) -> Result<Value, MergeError> {
    for service in services {
        let found = service.document["openapi"].as_str().unwrap_or_default();
        if !found.starts_with("3.1.") {
            return Err(MergeError::NotOpenApi31 {
                service: service.service.clone(),
                found: found.to_owned(),
            });
        }
    }
    let schema_renames = schema_renames(services)?;
    let shared_ids = shared_operation_ids(services);
    let mut merged = Merged::default();
    for service in services {
        let mut document = service.document.clone();
        if let Some(renames) = schema_renames.get(&service.service) {
            rename_schemas(&mut document, renames);
        }
        merged.add(&service.service, &document, &shared_ids)?;
    }
    merged.into_document()
}

/// Per service, the schemas it renames (old name → new): those another service defines
/// differently.
fn schema_renames(
    services: &[ServiceDocument],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, MergeError> {
    let mut definitions: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
    for service in services {
        for (name, schema) in schemas_of(&service.document) {
            if name == GATEWAY_MESSAGE {
                return Err(MergeError::ReservedName {
                    service: service.service.clone(),
                    name: name.clone(),
                });
            }
            definitions
                .entry(name)
                .or_default()
                .push((&service.service, schema));
        }
    }
    let clashing: BTreeSet<&str> = definitions
        .iter()
        .filter(|(_, defined)| defined.windows(2).any(|pair| pair[0].1 != pair[1].1))
        .map(|(name, _)| *name)
        .collect();
    let mut taken: BTreeSet<String> = definitions
        .keys()
        .filter(|name| !clashing.contains(*name))
        .map(|name| (*name).to_owned())
        .chain([GATEWAY_MESSAGE.to_owned()])
        .collect();
    let mut renames: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for name in clashing {
        for (service, _) in &definitions[name] {
            let new_name = format!("{}{name}", capitalized(service));
            if !taken.insert(new_name.clone()) {
                return Err(MergeError::RenameTaken {
                    service: (*service).to_owned(),
                    name: name.to_owned(),
                    renamed: new_name,
                });
            }
            renames
                .entry((*service).to_owned())
                .or_default()
                .insert(name.to_owned(), new_name);
        }
    }
    Ok(renames)
}

fn schemas_of(document: &Value) -> impl Iterator<Item = (&String, &Value)> {
    document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Renames a document's component schemas and every reference to them.
fn rename_schemas(document: &mut Value, renames: &BTreeMap<String, String>) {
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        *schemas = std::mem::take(schemas)
            .into_iter()
            .map(|(name, schema)| (renames.get(&name).cloned().unwrap_or(name), schema))
            .collect();
    }
    rewrite_refs(document, renames);
}

fn rewrite_refs(value: &mut Value, renames: &BTreeMap<String, String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                match inner {
                    Value::String(target) if key == "$ref" => {
                        if let Some(renamed) = target
                            .strip_prefix(SCHEMA_REF)
                            .and_then(|name| renames.get(name))
                        {
                            *target = format!("{SCHEMA_REF}{renamed}");
                        }
                    }
                    other => rewrite_refs(other, renames),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite_refs(item, renames);
            }
        }
        _ => {}
    }
}

/// Operation ids that more than one service uses.
fn shared_operation_ids(services: &[ServiceDocument]) -> BTreeSet<String> {
    let mut users: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for service in services {
        for (_, _, operation) in operations(&service.document) {
            if let Some(id) = operation["operationId"].as_str() {
                users.entry(id).or_default().insert(&service.service);
            }
        }
    }
    users
        .into_iter()
        .filter(|(_, services)| services.len() > 1)
        .map(|(id, _)| id.to_owned())
        .collect()
}

/// Every operation of a document: path, method, operation.
fn operations(document: &Value) -> impl Iterator<Item = (&String, &String, &Value)> {
    document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(method, _)| METHODS.contains(&method.as_str()))
                .map(move |(method, operation)| (path, method, operation))
        })
}

/// What the merge has gathered so far, and who brought each route, id and tag.
#[derive(Debug, Default)]
struct Merged {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
    tags: Vec<Value>,
    route_owners: BTreeMap<String, String>,
    operation_ids: BTreeMap<String, String>,
    tag_owners: BTreeMap<String, String>,
}

impl Merged {
    fn add(
        &mut self,
        service: &str,
        document: &Value,
        shared_ids: &BTreeSet<String>,
    ) -> Result<(), MergeError> {
        for (path, method, operation) in operations(document) {
            let route = format!("{} {path}", method.to_uppercase());
            if let Some(first) = self.route_owners.insert(route.clone(), service.to_owned()) {
                return Err(MergeError::DuplicateRoute {
                    route,
                    first,
                    second: service.to_owned(),
                });
            }
            let operation = self.gateway_operation(service, &route, operation, shared_ids)?;
            let item = self
                .paths
                .entry(path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            item[method.as_str()] = operation;
        }
        for (name, schema) in schemas_of(document) {
            // Alike wherever defined: names defined differently were renamed apart.
            self.schemas
                .entry(name.clone())
                .or_insert_with(|| schema.clone());
        }
        for tag in document["tags"].as_array().into_iter().flatten() {
            let name = tag["name"].as_str().unwrap_or_default().to_owned();
            match self.tag_owners.get(&name) {
                None => {
                    self.tag_owners.insert(name, service.to_owned());
                    self.tags.push(tag.clone());
                }
                Some(_) if self.tags.contains(tag) => {}
                Some(first) => {
                    return Err(MergeError::TagMismatch {
                        name,
                        first: first.clone(),
                        second: service.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// One service's operation as the gateway serves it.
    fn gateway_operation(
        &mut self,
        service: &str,
        route: &str,
        operation: &Value,
        shared_ids: &BTreeSet<String>,
    ) -> Result<Value, MergeError> {
        let mut operation = operation.clone();
        if let Some(id) = operation["operationId"].as_str().map(str::to_owned) {
            let id = if shared_ids.contains(&id) {
                format!("{service}_{id}")
            } else {
                id
            };
            if let Some(other) = self.operation_ids.insert(id.clone(), route.to_owned()) {
                return Err(MergeError::DuplicateOperationId {
                    id,
                    route: route.to_owned(),
                    other,
                });
            }
            operation["operationId"] = id.into();
        }
        let requirements = operation["security"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for scheme in requirements
            .iter()
            .filter_map(Value::as_object)
            .flat_map(Map::keys)
        {
            if scheme != BEARER {
                return Err(MergeError::UnknownSecurityScheme {
                    service: service.to_owned(),
                    scheme: scheme.clone(),
                });
            }
        }
        let protected = !requirements.is_empty();
        if !protected {
            operation["security"] = json!([]);
        }
        let with_body = operation.get("requestBody").is_some();
        let responses = operation
            .as_object_mut()
            .map(|o| o.entry("responses").or_insert_with(|| json!({})));
        if let Some(Value::Object(responses)) = responses {
            for answer in GATEWAY_ANSWERS
                .iter()
                .filter(|a| a.applies(protected, with_body))
            {
                answer.add_to(responses);
            }
        }
        Ok(operation)
    }

    fn into_document(mut self) -> Result<Value, MergeError> {
        let problem = self
            .schemas
            .get_mut(PROBLEM)
            .ok_or(MergeError::NoProblemSchema)?;
        // The functions add the request's correlation id to every problem they answer.
        problem["properties"]["correlation_id"] = json!({
            "type": "string",
            "description": "The request's correlation id (also the `x-correlation-id` header); quote it when reporting a problem."
        });
        problem["examples"] = json!([{
            "type": "/problems/validation-error",
            "title": "Invalid request",
            "status": 400,
            "detail": "price_cents: is required",
            "errors": [{"field": "price_cents", "message": "is required"}],
            "correlation_id": "5f0c6a52-3c1e-4f7b-9a0d-2b8e4f1d6c3a"
        }]);
        self.schemas.insert(
            GATEWAY_MESSAGE.to_owned(),
            json!({
                "type": "object",
                "description": "What API Gateway answers itself, before or instead of the route's function.",
                "required": ["message"],
                "properties": {"message": {"type": "string"}},
                "examples": [{"message": "Unauthorized"}]
            }),
        );
        Ok(json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Shop API",
                "description": DESCRIPTION,
                "license": {"name": "MIT-0", "identifier": "MIT-0"},
                "version": env!("CARGO_PKG_VERSION"),
            },
            "servers": servers(),
            "paths": self.paths,
            "components": {
                "schemas": self.schemas,
                "securitySchemes": {BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": SCHEME_DESCRIPTION,
                }},
            },
            "security": [{BEARER: []}],
            "tags": self.tags,
        }))
    }
}

fn servers() -> Value {
    json!([
        {"url": "/", "description": "The gateway that serves this document"},
        {
            "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
            "description": "A deployed stage: the stack's ApiUrl output",
            "variables": {
                "apiId": {"default": "abcdef1234", "description": "The HTTP API's id"},
                "region": {"default": "us-east-1", "description": "The stack's region"},
            },
        },
        {"url": "http://127.0.0.1:3000", "description": "devstack on this machine (`make run`)"},
    ])
}

const DESCRIPTION: &str = "\
The online shop's HTTP API as API Gateway serves it: every service's routes behind one URL.

**Signing in.** `POST /auth/signup`, then `POST /auth/login` answers an `access_token` (a \
Cognito JWT, valid for an hour; `POST /auth/refresh` gives a new one). Send it as \
`Authorization: Bearer <token>`; on this page, paste it under *Authorize*. Operations with a \
lock need it, and those whose requirement names `admin` need a token of the `admin` group. The \
gateway checks the token before any function runs.

**Errors.** The functions answer errors as `application/problem+json` (RFC 9457) with a \
`correlation_id`; a validation error lists the invalid fields in `errors`. The gateway answers \
the requests it refuses itself as `application/json` `{\"message\": ...}`: 401 (no valid \
token), 404 (no route for the method and path), 413 (a body larger than it takes), 429 \
(throttled) and 500 (the function failed or timed out).

**Correlation.** Every answer of a function carries `x-correlation-id`: the request's, or a \
new one.

**Lists** come in pages: `limit`, and the previous page's `next_cursor` as `cursor`. **Money** \
is integer cents with an ISO 4217 currency.";

const SCHEME_DESCRIPTION: &str = "\
A Cognito access token (or id token) from `POST /auth/login`. API Gateway's JWT authorizer \
checks its signature against the user pool's keys, its issuer (the pool), its audience (the \
app client) and its expiry before the function runs; a requirement naming `admin` also needs \
the `admin` group in the token's `cognito:groups`, which the function checks (403 otherwise).";

/// Which operations the gateway may answer with a status of its own.
#[derive(Debug, Clone, Copy)]
enum Applies {
    /// Routes with the authorizer.
    Protected,
    /// Operations that take a body.
    WithBody,
    Always,
}

/// An answer the gateway gives itself, in its own shape.
#[derive(Debug)]
struct GatewayAnswer {
    status: &'static str,
    message: &'static str,
    description: &'static str,
    applies: Applies,
    /// The function answers the same status as a problem, too.
    also_a_problem: bool,
}

const GATEWAY_ANSWERS: [GatewayAnswer; 4] = [
    GatewayAnswer {
        status: "401",
        message: "Unauthorized",
        description: "No valid token: the gateway's JWT authorizer refused it (missing, expired, forged, or from another user pool or app client)",
        applies: Applies::Protected,
        also_a_problem: true,
    },
    GatewayAnswer {
        status: "413",
        message: "Request Entity Too Large",
        description: "The body is too large for the gateway or Lambda",
        applies: Applies::WithBody,
        also_a_problem: false,
    },
    GatewayAnswer {
        status: "429",
        message: "Too Many Requests",
        description: "Throttled by the gateway (the stage's rate and burst limits): retry later, with backoff",
        applies: Applies::Always,
        also_a_problem: false,
    },
    GatewayAnswer {
        status: "500",
        message: "Internal Server Error",
        description: "The function failed, timed out or could not be invoked; a failure the function caught is a problem with the correlation id to quote",
        applies: Applies::Always,
        also_a_problem: true,
    },
];

impl GatewayAnswer {
    fn applies(&self, protected: bool, with_body: bool) -> bool {
        match self.applies {
            Applies::Protected => protected,
            Applies::WithBody => with_body,
            Applies::Always => true,
        }
    }

    /// Adds the gateway's body to the operation's answer with this status, or the answer.
    fn add_to(&self, responses: &mut Map<String, Value>) {
        let gateway = json!({
            "schema": {"$ref": format!("{SCHEMA_REF}{GATEWAY_MESSAGE}")},
            "example": {"message": self.message},
        });
        let Some(response) = responses.get_mut(self.status) else {
            let mut content = json!({"application/json": gateway});
            if self.also_a_problem {
                content["application/problem+json"] =
                    json!({"schema": {"$ref": format!("{SCHEMA_REF}{PROBLEM}")}});
            }
            responses.insert(
                self.status.to_owned(),
                json!({"description": self.description, "content": content}),
            );
            return;
        };
        // A service that documents the gateway's body (shop_http::Unauthenticated) describes
        // it too; otherwise the service's description says only what the function answers.
        if response.pointer("/content/application~1json").is_none() {
            let described = response["description"].as_str().unwrap_or_default();
            response["description"] =
                format!("{described}; or {}", lowercase_first(self.description)).into();
        }
        response["content"]["application/json"] = gateway;
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> Value {
        json!({"type": "object", "properties": {"title": {"type": "string"}}})
    }

    /// A service document with one public GET, named after the service, and `schemas`.
    fn service(name: &str, schemas: Value) -> ServiceDocument {
        let mut all = schemas;
        all["Problem"] = problem();
        ServiceDocument::new(
            name,
            json!({
                "openapi": "3.1.0",
                "info": {"title": name, "version": "0"},
                "paths": {format!("/{name}/health"): {"get": {
                    "operationId": "health",
                    "responses": {"200": {"description": "ok"}},
                }}},
                "components": {"schemas": all},
                "tags": [{"name": name}],
            }),
        )
    }

    fn with_operation(
        mut service: ServiceDocument,
        path: &str,
        method: &str,
        operation: Value,
    ) -> ServiceDocument {
        service.document["paths"][path][method] = operation;
        service
    }

    #[test]
    fn schemas_defined_alike_are_kept_once_and_different_ones_renamed_with_their_references() {
        let accepted =
            |field: &str| json!({"type": "object", "properties": {field: {"type": "string"}}});
        let orders = with_operation(
            service("orders", json!({"Accepted": accepted("order_id")})),
            "/orders",
            "post",
            json!({"operationId": "place", "security": [{"bearer": []}], "responses": {"202": {
                "description": "accepted",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
            }}}),
        );
        let payments = service("payments", json!({"Accepted": accepted("payment_id")}));
        let merged = merge(&[orders, payments]).unwrap();
        let schemas = merged["components"]["schemas"].as_object().unwrap();
        let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "GatewayMessage",
                "OrdersAccepted",
                "PaymentsAccepted",
                "Problem"
            ]
        );
        assert_eq!(schemas["OrdersAccepted"], accepted("order_id"));
        assert_eq!(schemas["PaymentsAccepted"], accepted("payment_id"));
        assert_eq!(
            merged["paths"]["/orders"]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/OrdersAccepted"
        );
    }

    #[test]
    fn a_renamed_schema_may_not_take_a_name_another_service_uses() {
        let orders = service("orders", json!({"Accepted": {"type": "string"}}));
        let payments = service(
            "payments",
            json!({"Accepted": {"type": "integer"}, "OrdersAccepted": {"type": "object"}}),
        );
        assert_eq!(
            merge(&[orders, payments]),
            Err(MergeError::RenameTaken {
                service: "orders".into(),
                name: "Accepted".into(),
                renamed: "OrdersAccepted".into()
            })
        );
    }

    #[test]
    fn an_operation_id_two_services_use_is_prefixed_with_each_service() {
        let merged = merge(&[service("auth", json!({})), service("catalog", json!({}))]).unwrap();
        assert_eq!(
            merged["paths"]["/auth/health"]["get"]["operationId"],
            "auth_health"
        );
        assert_eq!(
            merged["paths"]["/catalog/health"]["get"]["operationId"],
            "catalog_health"
        );
    }

    #[test]
    fn a_route_two_services_document_is_refused() {
        let twice = with_operation(
            service("catalog", json!({})),
            "/auth/health",
            "get",
            json!({"responses": {}}),
        );
        assert_eq!(
            merge(&[service("auth", json!({})), twice]),
            Err(MergeError::DuplicateRoute {
                route: "GET /auth/health".into(),
                first: "auth".into(),
                second: "catalog".into()
            })
        );
    }

    #[test]
    fn only_the_bearer_scheme_is_known() {
        let other = with_operation(
            service("auth", json!({})),
            "/auth/me",
            "get",
            json!({"security": [{"apiKey": []}], "responses": {}}),
        );
        assert!(matches!(
            merge(&[other]),
            Err(MergeError::UnknownSecurityScheme { scheme, .. }) if scheme == "apiKey"
        ));
    }

    #[test]
    fn public_operations_lift_the_default_requirement_and_protected_ones_keep_theirs() {
        let admin = with_operation(
            service("catalog", json!({})),
            "/products",
            "post",
            json!({"security": [{"bearer": ["admin"]}], "requestBody": {}, "responses": {}}),
        );
        let merged = merge(&[admin]).unwrap();
        assert_eq!(merged["security"], json!([{"bearer": []}]));
        assert_eq!(
            merged["paths"]["/catalog/health"]["get"]["security"],
            json!([])
        );
        assert_eq!(
            merged["paths"]["/products"]["post"]["security"],
            json!([{"bearer": ["admin"]}])
        );
    }

    #[test]
    fn the_gateway_answers_are_added_where_they_apply() {
        let catalog = with_operation(
            service("catalog", json!({})),
            "/products",
            "post",
            json!({"security": [{"bearer": []}], "requestBody": {}, "responses": {}}),
        );
        let merged = merge(&[catalog]).unwrap();
        let statuses = |path: &str, method: &str| -> Vec<String> {
            merged["paths"][path][method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(statuses("/catalog/health", "get"), ["200", "429", "500"]);
        assert_eq!(statuses("/products", "post"), ["401", "413", "429", "500"]);
        let unauthorized = &merged["paths"]["/products"]["post"]["responses"]["401"]["content"];
        assert_eq!(
            unauthorized["application/json"]["example"],
            json!({"message": "Unauthorized"})
        );
        assert_eq!(
            unauthorized["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }

    #[test]
    fn a_status_the_function_answers_too_keeps_its_problem_and_gains_the_gateway_body() {
        let login = with_operation(
            service("auth", json!({})),
            "/auth/login",
            "post",
            json!({"requestBody": {}, "responses": {"429": {
                "description": "Too many failed logins",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }}}),
        );
        let merged = merge(&[login]).unwrap();
        let throttled = &merged["paths"]["/auth/login"]["post"]["responses"]["429"];
        assert_eq!(
            throttled["description"],
            "Too many failed logins; or throttled by the gateway (the stage's rate and burst limits): retry later, with backoff"
        );
        assert!(throttled["content"]["application/problem+json"].is_object());
        assert_eq!(
            throttled["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/GatewayMessage"
        );
    }

    #[test]
    fn every_problem_carries_the_correlation_id() {
        let merged = merge(&[service("auth", json!({}))]).unwrap();
        let problem = &merged["components"]["schemas"]["Problem"];
        assert_eq!(problem["properties"]["correlation_id"]["type"], "string");
        assert!(problem["properties"]["title"].is_object());
    }

    #[test]
    fn a_document_of_another_openapi_version_is_refused() {
        let mut old = service("auth", json!({}));
        old.document["openapi"] = "3.0.3".into();
        assert!(matches!(
            merge(&[old]),
            Err(MergeError::NotOpenApi31 { .. })
        ));
    }

    #[test]
    fn tags_are_kept_in_service_order() {
        let merged = merge(&[service("orders", json!({})), service("auth", json!({}))]).unwrap();
        assert_eq!(
            merged["tags"],
            json!([{"name": "orders"}, {"name": "auth"}])
        );
    }
}
