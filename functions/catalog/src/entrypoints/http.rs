//! The catalog's HTTP API (behind API Gateway, run by the `catalog-http` function).
//!
//! Every route is registered through `routes!`, which adds it to the router and to the
//! OpenAPI document together, so the published spec cannot miss a route.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{Method, StatusCode, header},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use shop_http::{
    Admin, BearerAuth, Check, FieldError, Health, JsonBody, JsonBodyRejections, Page, PageRequest,
    Problem, QueryParams, Unauthenticated, pagination::encode_cursor,
};
use shop_observability::{AccessLog, BodyFields, CorrelationId, Field};
use time::OffsetDateTime;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    domain::{Product, ProductInput, ProductStatus, RevisionError},
    service::{Catalog, CatalogError},
};

/// The router the `catalog-http` function serves.
pub fn router(catalog: Catalog) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(routes.with_state(catalog), access_log())
}

/// What the access log may show of the catalog's bodies: the public product fields. A
/// product's description is free text and stays out.
fn access_log() -> AccessLog {
    const PRODUCT_IN: &[Field] = &[
        Field::plain("sku"),
        Field::plain("name"),
        Field::number("price_cents"),
        Field::plain("currency"),
    ];
    const PRODUCT_OUT: &[Field] = &[
        Field::id("id"),
        Field::plain("sku"),
        Field::plain("name"),
        Field::number("price_cents"),
        Field::plain("currency"),
        Field::plain("status"),
        Field::number("version"),
    ];
    const LIST: BodyFields = BodyFields {
        request: &[],
        response: &[
            Field::plain("items"),
            Field::id("id"),
            Field::plain("sku"),
            Field::plain("name"),
            Field::number("price_cents"),
            Field::plain("currency"),
            Field::plain("status"),
            Field::number("version"),
        ],
    };
    const WRITE: BodyFields = BodyFields {
        request: PRODUCT_IN,
        response: PRODUCT_OUT,
    };
    const READ: BodyFields = BodyFields {
        request: &[],
        response: PRODUCT_OUT,
    };
    AccessLog::new(crate::SERVICE)
        .route(Method::GET, "/products", LIST)
        .route(Method::POST, "/products", WRITE)
        .route(Method::GET, "/products/{id}", READ)
        .route(Method::PUT, "/products/{id}", WRITE)
        .route(Method::DELETE, "/products/{id}", READ)
}

/// The OpenAPI document of this API, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<Catalog> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product, discontinue_product))
        .routes(routes!(health))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop catalog API", description = "Products: public reads, admin-only writes."),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "catalog", description = "Products of the shop"))
)]
struct ApiDoc;

// The fields are `Option`s so that the domain reports every missing field at once; the
// schema says what a valid request holds (the bounds of `domain::validation`), so generated
// clients and the fuzzer send what the handler accepts.

/// A new product. Every field but `description` is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// 3 to 32 characters of A-Z, 0-9 and '-', not starting or ending with '-'; unique,
    /// never changes.
    #[schema(
        value_type = String, required = true, example = "KETTLE-1L",
        min_length = 3, max_length = 32, pattern = r"^[A-Z0-9][A-Z0-9-]*[A-Z0-9]$"
    )]
    pub sku: Option<String>,
    /// 1 to 120 characters, not blank, no control characters but line breaks.
    #[schema(
        value_type = String, required = true, example = "Kettle, 1 litre",
        min_length = 1, max_length = 120, pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// Up to 2000 characters, no control characters but line breaks.
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub description: Option<String>,
    /// The price in the currency's smallest unit, 1 to 100,000,000.
    #[schema(value_type = i64, required = true, example = 2999, minimum = 1, maximum = 100_000_000)]
    pub price_cents: Option<i64>,
    /// ISO 4217 code: three capital letters.
    #[schema(value_type = String, required = true, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// The new details of a product (the SKU never changes). Every field but `description` is
/// required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChange {
    /// 1 to 120 characters, not blank, no control characters but line breaks.
    #[schema(
        value_type = String, required = true, example = "Kettle, 1 litre",
        min_length = 1, max_length = 120, pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// Up to 2000 characters, no control characters but line breaks.
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub description: Option<String>,
    /// The price in the currency's smallest unit, 1 to 100,000,000.
    #[schema(value_type = i64, required = true, example = 2999, minimum = 1, maximum = 100_000_000)]
    pub price_cents: Option<i64>,
    /// ISO 4217 code: three capital letters.
    #[schema(value_type = String, required = true, example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub currency: String,
    #[schema(value_type = String, example = "ACTIVE")]
    pub status: ProductStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Product> for ProductView {
    fn from(product: Product) -> Self {
        Self {
            id: product.id,
            sku: product.sku,
            name: product.details.name,
            description: product.details.description,
            price_cents: product.details.price_cents,
            currency: product.details.currency,
            status: product.status,
            version: product.version,
            created_at: product.created_at,
            updated_at: product.updated_at,
        }
    }
}

/// The cursor's content: the id of the last product of the previous page, or of the item
/// where the previous page's scan budget ran out. Any product id is a position within the
/// public list, so a well-formed cursor can only move a client within it; a cursor with
/// another shape is a 400.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListPosition {
    after: Uuid,
}

/// Lists active products.
#[utoipa::path(
    get, path = "/products", tag = "catalog",
    params(PageRequest),
    responses(
        (status = 200, description = "A page of active products", body = Page<ProductView>),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_products(
    State(catalog): State<Catalog>,
    QueryParams(page): QueryParams<PageRequest>,
) -> Result<Json<Page<ProductView>>, Problem> {
    let limit = page.limit()?;
    let after = page.position::<ListPosition>()?.map(|p| p.after);
    let (products, next) = catalog.list(limit as usize, after).await?;
    Ok(Json(Page {
        items: products.into_iter().map(ProductView::from).collect(),
        next_cursor: next.map(|after| encode_cursor(&ListPosition { after })),
    }))
}

/// Reads one product, discontinued ones included.
#[utoipa::path(
    get, path = "/products/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id (any other text is a 404)")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_product(
    State(catalog): State<Catalog>,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, Problem> {
    Ok(Json(catalog.get(&id).await?.into()))
}

/// Creates a product (admin only).
#[utoipa::path(
    post, path = "/products", tag = "catalog",
    request_body = NewProduct,
    security(("bearer" = ["admin"])),
    responses(
        (status = 201, description = "Created", body = ProductView, headers(("location" = String))),
        (status = 400, description = "Invalid fields, each named, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SKU already taken", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn create_product(
    State(catalog): State<Catalog>,
    _admin: Admin,
    correlation_id: CorrelationId,
    JsonBody(body): JsonBody<NewProduct>,
) -> Result<impl IntoResponse, Problem> {
    let input = ProductInput {
        sku: body.sku,
        name: body.name,
        description: body.description,
        price_cents: body.price_cents,
        currency: body.currency,
    };
    let product = catalog.create(input, correlation_id.as_str()).await?;
    let location = format!("/products/{}", product.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ProductView::from(product)),
    ))
}

/// Replaces a product's details (admin only).
#[utoipa::path(
    put, path = "/products/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id (any other text is a 404)")),
    request_body = ProductChange,
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The product's new version", body = ProductView),
        (status = 400, description = "Invalid fields, each named, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Discontinued, or changed concurrently", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn update_product(
    State(catalog): State<Catalog>,
    _admin: Admin,
    correlation_id: CorrelationId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ProductChange>,
) -> Result<Json<ProductView>, Problem> {
    let input = ProductInput {
        sku: None,
        name: body.name,
        description: body.description,
        price_cents: body.price_cents,
        currency: body.currency,
    };
    Ok(Json(
        catalog
            .revise(&id, input, correlation_id.as_str())
            .await?
            .into(),
    ))
}

/// Discontinues a product (admin only): it stays readable by id but is no longer listed.
/// Repeating it is harmless.
#[utoipa::path(
    delete, path = "/products/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id (any other text is a 404)")),
    security(("bearer" = ["admin"])),
    responses(
        (status = 204, description = "Discontinued"),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn discontinue_product(
    State(catalog): State<Catalog>,
    _admin: Admin,
    correlation_id: CorrelationId,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    catalog.discontinue(&id, correlation_id.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the catalog can serve: its tables answer.
#[utoipa::path(
    get, path = "/catalog/health", tag = "catalog",
    responses(
        (status = 200, description = "Every check passed", body = Health),
        (status = 503, description = "A check failed or timed out; `checks` names it", body = Health),
    )
)]
async fn health(State(catalog): State<Catalog>) -> Health {
    Health::check(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        [Check::new("product_tables", catalog.table().connect())],
    )
    .await
}

impl From<CatalogError> for Problem {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Invalid(violations) => Problem::validation(
                violations
                    .into_iter()
                    .map(|v| FieldError::new(v.field, v.message))
                    .collect(),
            ),
            CatalogError::NotFound => Problem::not_found("no product with this id"),
            CatalogError::SkuTaken(sku) => Problem::conflict(format!("SKU {sku} is already taken")),
            CatalogError::Revision(RevisionError::Discontinued) => {
                Problem::conflict("the product is discontinued and can no longer be changed")
            }
            CatalogError::Conflict | CatalogError::Contended => {
                Problem::conflict(error.to_string())
            }
            CatalogError::Store(cause) => Problem::internal(&cause),
        }
    }
}
