//! The inventory HTTP API (run by `inventory-http`): public stock reads, admin stock writes.

use axum::{
    Json, Router,
    extract::{Path, State},
};
use serde::{Deserialize, Serialize};
use shop_http::{
    Admin, BearerAuth, Check, FieldError, Health, JsonBody, JsonBodyRejections, Problem,
    Unauthenticated,
};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    domain::Level,
    service::{Inventory, InventoryError},
};

pub fn router(inventory: Inventory) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(routes.with_state(inventory), crate::SERVICE)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<Inventory> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_stock, set_stock))
        .routes(routes!(health))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop inventory API", description = "Stock per SKU: public reads, admin writes."),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "inventory", description = "Stock levels"))
)]
struct ApiDoc;

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

impl StockView {
    fn of(sku: String, level: Level) -> Self {
        Self {
            sku,
            on_hand: level.on_hand,
            reserved: level.reserved,
            available: level.available(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStock {
    /// Units on hand, 0 to 1,000,000; not below what is reserved.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub on_hand: i64,
}

/// A SKU's stock (zero for a SKU never stocked).
#[utoipa::path(
    get, path = "/inventory/{sku}", tag = "inventory", params(
        ("sku" = String, Path, description = "3 to 32 characters of A-Z, 0-9 and '-'",
            min_length = 3, max_length = 32, pattern = "^[A-Z0-9-]+$"),
    ),
    responses(
        (status = 200, description = "The stock", body = StockView),
        (status = 400, description = "Not a SKU", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_stock(
    State(inventory): State<Inventory>,
    Path(sku): Path<String>,
) -> Result<Json<StockView>, Problem> {
    let level = inventory.level(&sku).await?;
    Ok(Json(StockView::of(sku, level)))
}

/// Sets a SKU's units on hand (admin only).
#[utoipa::path(
    put, path = "/inventory/{sku}", tag = "inventory", params(
        ("sku" = String, Path, description = "3 to 32 characters of A-Z, 0-9 and '-'",
            min_length = 3, max_length = 32, pattern = "^[A-Z0-9-]+$"),
    ),
    request_body = SetStock, security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The new stock", body = StockView),
        (status = 400, description = "Invalid SKU or quantity, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Below the reserved units", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn set_stock(
    State(inventory): State<Inventory>,
    _admin: Admin,
    Path(sku): Path<String>,
    JsonBody(body): JsonBody<SetStock>,
) -> Result<Json<StockView>, Problem> {
    let level = inventory.set_on_hand(&sku, body.on_hand).await?;
    Ok(Json(StockView::of(sku, level)))
}

/// Whether inventory can serve: its tables answer.
#[utoipa::path(
    get, path = "/inventory/health", tag = "inventory",
    responses(
        (status = 200, description = "Every check passed", body = Health),
        (status = 503, description = "A check failed or timed out; `checks` names it", body = Health),
    )
)]
async fn health(State(inventory): State<Inventory>) -> Health {
    Health::check(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        [Check::new("stock_tables", inventory.stock.connect())],
    )
    .await
}

impl From<InventoryError> for Problem {
    fn from(error: InventoryError) -> Self {
        match error {
            InventoryError::Invalid(invalid) => {
                Problem::validation(vec![FieldError::new(invalid.field, invalid.message)])
            }
            InventoryError::BelowReserved { .. }
            | InventoryError::OutOfStock(_)
            | InventoryError::AlreadyReleased(_)
            | InventoryError::Contended => Problem::conflict(error.to_string()),
            InventoryError::Store(_) => Problem::internal(&error),
        }
    }
}
