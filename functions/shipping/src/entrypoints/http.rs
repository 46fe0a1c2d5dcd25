//! The shipping HTTP API (run by `shipping-http`): an order's shipment, for its customer or
//! an admin.

use axum::{
    Json, Router,
    extract::{Path, State},
};
use shop_http::{BearerAuth, Caller, Check, FieldError, Health, Problem, Unauthenticated};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{domain::Shipment, service::Shipping};

pub fn router(shipping: Shipping) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(routes.with_state(shipping), crate::SERVICE)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<Shipping> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_shipment))
        .routes(routes!(health))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop shipping API", description = "Shipments of orders."),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "shipping", description = "Shipments"))
)]
struct ApiDoc;

/// An order's shipment, for the order's customer or an admin (others get 404).
#[utoipa::path(
    get, path = "/shipments/{order_id}", tag = "shipping", params(("order_id" = Uuid, Path, description = "Order id (any other text is a 404)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The shipment", body = Object),
        Unauthenticated,
        (status = 404, description = "No shipment of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_shipment(
    State(shipping): State<Shipping>,
    caller: Caller,
    Path(order_id): Path<String>,
) -> Result<Json<Shipment>, Problem> {
    match shipping.shipment(&caller, &order_id).await {
        Ok(Some(shipment)) => Ok(Json(shipment)),
        Ok(None) => Err(Problem::not_found("no shipment for this order")),
        Err(error) => Err(Problem::internal(&error)),
    }
}

/// Whether shipping can serve: its table answers.
#[utoipa::path(
    get, path = "/shipping/health", tag = "shipping",
    responses(
        (status = 200, description = "Every check passed", body = Health),
        (status = 503, description = "A check failed or timed out; `checks` names it", body = Health),
    )
)]
async fn health(State(shipping): State<Shipping>) -> Health {
    Health::check(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        [Check::new("shipments_table", shipping.shipments.connect())],
    )
    .await
}
