//! The API's documentation at the gateway: `GET /docs` is Swagger UI, `GET /docs/openapi.json`
//! the one OpenAPI document of the whole API.
//!
//! That document is [`gateway_document::merge`]d from the services' own documents (each
//! generated from its handlers) and committed as `docs/api/shop.openapi.json`; a test in this
//! crate fails when the commit and the code disagree (`make openapi` rewrites it), and another
//! holds its routes to the template's. The function serves the committed bytes, compiled in:
//! it calls no AWS API and needs no permission.

pub mod gateway_document;
pub mod http;

pub const SERVICE: &str = "docs";

/// The gateway's OpenAPI document, as committed.
pub const DOCUMENT: &str = include_str!("../../../docs/api/shop.openapi.json");
