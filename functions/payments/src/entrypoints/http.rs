//! The payments HTTP API (run by `payments-http`): an order's payment, for admins.

use axum::{
    Json, Router,
    extract::{Path, State},
};
use shop_http::{Admin, BearerAuth, FieldError, Health, Problem};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{adapters::PaymentsTable, domain::Payment};

pub fn router(table: PaymentsTable) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(routes.with_state(table), crate::SERVICE)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<PaymentsTable> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_payment))
        .routes(routes!(health))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop payments API", description = "Payments per order (admins only)."),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "payments", description = "Payments"))
)]
struct ApiDoc;

/// An order's payment (admin only).
#[utoipa::path(
    get, path = "/payments/{order_id}", tag = "payments", params(("order_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The payment", body = Object),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No payment for this order", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_payment(
    State(table): State<PaymentsTable>,
    _admin: Admin,
    Path(order_id): Path<String>,
) -> Result<Json<Payment>, Problem> {
    match table.get(&order_id).await {
        Ok(Some(payment)) => Ok(Json(payment)),
        Ok(None) => Err(Problem::not_found("no payment for this order")),
        Err(error) => Err(Problem::internal(&error)),
    }
}

/// Liveness of the payments function.
#[utoipa::path(get, path = "/payments/health", tag = "payments", responses((status = 200, description = "Up", body = Health)))]
async fn health() -> Json<Health> {
    Health::ok(crate::SERVICE, env!("CARGO_PKG_VERSION"))
}
