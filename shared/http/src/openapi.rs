//! Pieces every service's OpenAPI document and router share.

use std::collections::BTreeMap;

use utoipa::{
    IntoResponses, Modify,
    openapi::{
        ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::problem;

/// Adds the `bearer` security scheme (a Cognito JWT). An operation any signed-in user may call
/// names it with `security(("bearer" = []))`; one for admins only with
/// `security(("bearer" = ["admin"]))` (OpenAPI 3.1 lets a non-OAuth requirement list role
/// names), so clients and the fuzzer know which token an operation needs.
/// Use as `#[openapi(modifiers(&BearerAuth))]`.
#[derive(Debug)]
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some("A Cognito access or id token, from POST /auth/login"))
                        .build(),
                ),
            );
    }
}

/// The 401 of an operation that requires a token: list it in `responses(...)`. API Gateway's
/// JWT authorizer refuses a missing, expired or forged token before the function runs, in its
/// own shape (`{"message": "Unauthorized"}` as `application/json`, with `WWW-Authenticate:
/// Bearer`); the function itself answers a problem when the claims it is handed name no
/// caller. Both are documented, since a client can meet either.
#[derive(Debug)]
pub struct Unauthenticated;

impl IntoResponses for Unauthenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let gateway_message = ObjectBuilder::new()
            .property("message", ObjectBuilder::new().schema_type(Type::String))
            .required("message");
        let response = ResponseBuilder::new()
            .description(
                "No valid token: API Gateway's authorizer answers `{\"message\": \"Unauthorized\"}`; \
                 the function a problem",
            )
            .content(
                problem::CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(gateway_message)).build(),
            )
            .build();
        BTreeMap::from([("401".to_owned(), response.into())])
    }
}

/// What [`JsonBody`](crate::JsonBody) refuses before a handler runs, beside the 400 for
/// malformed JSON that each operation describes with its own validation: list it in the
/// `responses(...)` of every operation that reads a JSON body.
#[derive(Debug)]
pub struct JsonBodyRejections;

impl IntoResponses for JsonBodyRejections {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let problem = |description: String| -> RefOr<Response> {
            ResponseBuilder::new()
                .description(description)
                .content(
                    problem::CONTENT_TYPE,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
                .into()
        };
        BTreeMap::from([
            (
                "413".to_owned(),
                problem(format!(
                    "The body is larger than {} bytes",
                    crate::MAX_BODY_BYTES
                )),
            ),
            (
                "415".to_owned(),
                problem("The body is not sent as application/json".to_owned()),
            ),
        ])
    }
}
