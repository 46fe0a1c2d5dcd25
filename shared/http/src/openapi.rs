//! Pieces every service's OpenAPI document and router share.

use axum::Json;
use serde::Serialize;
use utoipa::{
    Modify, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// Adds the `bearer` security scheme (a Cognito JWT) that protected operations name with
/// `security(("bearer" = []))`. Use as `#[openapi(modifiers(&BearerAuth))]`.
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

/// The answer of every `GET /<service>/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub service: &'static str,
    pub version: &'static str,
}

impl Health {
    pub fn ok(service: &'static str, version: &'static str) -> Json<Self> {
        Json(Self {
            status: "ok",
            service,
            version,
        })
    }
}
