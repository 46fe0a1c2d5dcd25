//! The orders HTTP API (run by `orders-http`). Routes are registered through `routes!`, so
//! the OpenAPI document lists exactly what the router serves.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{FromRef, Path, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shop_http::{
    BearerAuth, Caller, Check, FieldError, Health, JsonBody, JsonBodyRejections, Page, PageRequest,
    Problem, QueryParams, Unauthenticated, pagination::encode_cursor,
};
use shop_observability::{AccessLog, BodyFields, CorrelationId, Field};
use time::OffsetDateTime;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    adapters::{CardTokenSealer, OrderView, StoredEvent},
    domain::{Address, LineRequest, Order, OrderError, OrderLine, OrderStatus},
    service::{Orders, OrdersError, PlaceOrder},
};

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 128;

pub fn router(orders: Orders, card_tokens: CardTokenSealer) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(
        routes.with_state(Api {
            orders,
            card_tokens,
        }),
        access_log(),
    )
}

/// What the routes run on: the service, and the key placement seals card tokens with (of the
/// orders functions, only this one may encrypt under it).
#[derive(Debug, Clone)]
pub struct Api {
    pub orders: Orders,
    pub card_tokens: CardTokenSealer,
}

impl FromRef<Api> for Orders {
    fn from_ref(api: &Api) -> Self {
        api.orders.clone()
    }
}

impl FromRef<Api> for CardTokenSealer {
    fn from_ref(api: &Api) -> Self {
        api.card_tokens.clone()
    }
}

/// What the access log may show of the orders' bodies: lines, amounts and states, never the
/// shipping address (a customer's name and home), the card token or an event's data.
fn access_log() -> AccessLog {
    const ORDER: &[Field] = &[
        Field::id("order_id"),
        Field::plain("status"),
        Field::plain("items"),
        Field::id("product_id"),
        Field::plain("sku"),
        Field::number("quantity"),
        Field::number("unit_price_cents"),
        Field::number("total_cents"),
        Field::plain("currency"),
        Field::number("version"),
    ];
    const PLACE: BodyFields = BodyFields {
        request: &[
            Field::plain("items"),
            Field::id("product_id"),
            Field::number("quantity"),
        ],
        response: &[Field::id("order_id"), Field::plain("status")],
    };
    const READ: BodyFields = BodyFields {
        request: &[],
        response: ORDER,
    };
    const TRAIL: BodyFields = BodyFields {
        request: &[],
        response: &[
            Field::number("sequence"),
            Field::plain("type"),
            Field::plain("correlation_id"),
        ],
    };
    AccessLog::new(crate::SERVICE)
        .route(Method::POST, "/orders", PLACE)
        .route(Method::GET, "/orders", READ)
        .route(Method::GET, "/orders/{id}", READ)
        .route(Method::GET, "/orders/{id}/events", TRAIL)
        .route(Method::POST, "/orders/{id}/cancel", READ)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<Api> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(order_events))
        .routes(routes!(cancel_order))
        .routes(routes!(health))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop orders API", description = "Orders: event-sourced, read from views built from the events."),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "orders", description = "A customer's orders"))
)]
struct ApiDoc;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// A product id of the catalog.
    #[schema(format = Uuid)]
    pub product_id: String,
    /// 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// A card token from the payment provider (test tokens: tok_visa, tok_declined, ...):
    /// 1 to 128 printable ASCII characters.
    #[schema(
        example = "tok_visa",
        min_length = 1,
        max_length = 128,
        pattern = "^[!-~]+$"
    )]
    pub card_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// 1 to 50 lines, each product once.
    #[schema(min_items = 1, max_items = 50)]
    pub items: Vec<LineInput>,
    pub payment: PaymentInput,
    #[schema(value_type = ShippingAddress)]
    pub shipping_address: Address,
}

/// The schema of `domain::Address` as the API takes and shows it: the bounds the service
/// checks before any lookup. Lines may hold any text but control characters.
// Never built: it only describes `Address`, which the domain keeps free of OpenAPI.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ShippingAddress {
    #[schema(
        example = "Ada Lovelace",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    name: String,
    #[schema(
        example = "1 Main St",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    line1: String,
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    line2: Option<String>,
    #[schema(
        example = "10115",
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    postal_code: String,
    #[schema(
        example = "Berlin",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    city: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "DE", pattern = "^[A-Z]{2}$")]
    country: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub order_id: String,
    #[schema(value_type = String, example = "PENDING")]
    pub status: OrderStatus,
}

/// An order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderBody {
    pub order_id: String,
    #[schema(value_type = String, example = "CONFIRMED")]
    pub status: OrderStatus,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<OrderLine>,
    pub total_cents: i64,
    pub currency: String,
    #[schema(value_type = ShippingAddress)]
    pub shipping_address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// For a cancelled order: stock, payment and shipment have all been undone.
    pub cancellation_complete: bool,
    /// How many events the order has had.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<OrderView> for OrderBody {
    fn from(view: OrderView) -> Self {
        Self {
            order_id: view.order_id,
            status: view.status,
            items: view.items,
            total_cents: view.total_cents,
            currency: view.currency,
            shipping_address: view.shipping_address,
            reason: view.reason,
            shipment_id: view.shipment_id,
            cancellation_complete: view.cancellation_complete,
            version: view.version,
            placed_at: view.placed_at,
            updated_at: view.updated_at,
        }
    }
}

impl From<Order> for OrderBody {
    fn from(order: Order) -> Self {
        OrderView::of(&order).into()
    }
}

/// One entry of an order's audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrailEntry {
    pub sequence: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    pub correlation_id: String,
    pub causation_id: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl TryFrom<StoredEvent> for TrailEntry {
    type Error = OrdersError;

    fn try_from(event: StoredEvent) -> Result<Self, Self::Error> {
        let mut data = event.data_json()?;
        // The trail is for people: the sealed card token is of no use to them, and an
        // OrderPlaced stored before tokens were sealed holds the token itself.
        if let Some(data) = data.as_object_mut() {
            data.remove("card_token_ciphertext");
            data.remove("card_token");
        }
        Ok(Self {
            sequence: event.sequence,
            event_type: event.event_type,
            occurred_at: event.occurred_at,
            correlation_id: event.correlation_id,
            causation_id: event.causation_id,
            data,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// Replay only the first N events (1 or more).
    #[param(minimum = 1)]
    pub as_of: Option<u64>,
}

/// Places an order: 202 once its OrderPlaced event is stored; the saga decides the rest.
#[utoipa::path(
    post, path = "/orders", tag = "orders", request_body = PlaceOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the same order; 1 to 128 visible ASCII characters",
        min_length = 1, max_length = 128, pattern = r"^[\t -~]+$")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Accepted", body = Accepted, headers(("location" = String))),
        (status = 400, description = "Invalid lines, address, payment or Idempotency-Key, each field named, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 422, description = "The Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn place_order(
    State(orders): State<Orders>,
    State(card_tokens): State<CardTokenSealer>,
    caller: Caller,
    correlation_id: CorrelationId,
    headers: HeaderMap,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<impl IntoResponse, Problem> {
    let idempotency_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(key)) if !key.is_empty() && key.len() <= MAX_KEY_LEN => Some(key.to_owned()),
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )]));
        }
    };
    let request: PlaceOrderRequest = serde_json::from_value(body.clone())
        .map_err(|error| Problem::bad_request(format!("invalid JSON body: {error}")))?;
    // The request's identity for idempotency: its JSON with keys sorted, hashed.
    let hash = Sha256::digest(body.to_string().as_bytes())
        .iter()
        .fold(String::new(), |hex, byte| hex + &format!("{byte:02x}"));

    let placed = orders
        .place(
            &card_tokens,
            &caller.user_id,
            PlaceOrder {
                lines: request
                    .items
                    .into_iter()
                    .map(|line| LineRequest {
                        product_id: line.product_id,
                        quantity: line.quantity,
                    })
                    .collect(),
                shipping_address: request.shipping_address,
                card_token: request.payment.card_token,
                idempotency: idempotency_key.map(|key| (key, hash)),
            },
            correlation_id.as_str(),
        )
        .await?;
    let location = format!("/orders/{}", placed.order_id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(Accepted {
            order_id: placed.order_id,
            status: OrderStatus::Pending,
        }),
    ))
}

/// The caller's orders, newest first.
#[utoipa::path(
    get, path = "/orders", tag = "orders", params(PageRequest), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the caller's orders", body = Page<OrderBody>),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
    )
)]
async fn list_orders(
    State(orders): State<Orders>,
    caller: Caller,
    QueryParams(page): QueryParams<PageRequest>,
) -> Result<Json<Page<OrderBody>>, Problem> {
    let limit = page.limit()?;
    let after = page.position::<HashMap<String, String>>()?;
    let (views, next) = orders.list(&caller, limit, after).await?;
    Ok(Json(Page {
        items: views.into_iter().map(OrderBody::from).collect(),
        next_cursor: next.map(|key| encode_cursor(&key)),
    }))
}

/// One order; with `as_of=N`, the order as it was after its first N events.
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders", params(("id" = Uuid, Path, description = "Order id (any other text is a 404)"), AsOf), security(("bearer" = [])),
    responses(
        (status = 200, description = "The order", body = OrderBody),
        (status = 400, description = "`as_of` is not a number of 1 or more", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
        (status = 404, description = "No such order of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_order(
    State(orders): State<Orders>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<AsOf>,
) -> Result<Json<OrderBody>, Problem> {
    Ok(Json(match query.as_of {
        Some(n) => orders.as_of(&caller, &id, n).await?.into(),
        None => orders.view(&caller, &id).await?.into(),
    }))
}

/// The order's audit trail: every event, in order.
#[utoipa::path(
    get, path = "/orders/{id}/events", tag = "orders", params(("id" = Uuid, Path, description = "Order id (any other text is a 404)")), security(("bearer" = [])),
    responses(
        (status = 200, description = "The events", body = Vec<TrailEntry>),
        Unauthenticated,
        (status = 404, description = "No such order of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn order_events(
    State(orders): State<Orders>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<TrailEntry>>, Problem> {
    let events = orders.owned_history(&caller, &id, None).await?;
    Ok(Json(
        events
            .into_iter()
            .map(TrailEntry::try_from)
            .collect::<Result<_, _>>()?,
    ))
}

/// Cancels a confirmed order that has not shipped.
#[utoipa::path(
    post, path = "/orders/{id}/cancel", tag = "orders", params(("id" = Uuid, Path, description = "Order id (any other text is a 404)")), security(("bearer" = [])),
    responses(
        (status = 202, description = "Cancellation accepted", body = OrderBody),
        Unauthenticated,
        (status = 404, description = "No such order of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not cancellable in its state", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn cancel_order(
    State(orders): State<Orders>,
    caller: Caller,
    correlation_id: CorrelationId,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Problem> {
    let order = orders.cancel(&caller, &id, correlation_id.as_str()).await?;
    Ok((StatusCode::ACCEPTED, Json(OrderBody::from(order))))
}

/// Whether orders can serve: its tables and the card token key answer.
#[utoipa::path(
    get, path = "/orders/health", tag = "orders",
    responses(
        (status = 200, description = "Every check passed", body = Health),
        (status = 503, description = "A check failed or timed out; `checks` names it", body = Health),
    )
)]
async fn health(
    State(orders): State<Orders>,
    State(card_tokens): State<CardTokenSealer>,
) -> Health {
    Health::check(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        [
            Check::new("event_store", orders.store.connect()),
            Check::new("read_model", orders.views.connect()),
            Check::new("product_copies", orders.products.connect()),
            Check::new("card_token_key", card_tokens.connect()),
        ],
    )
    .await
}

impl From<OrdersError> for Problem {
    fn from(error: OrdersError) -> Self {
        match error {
            OrdersError::Invalid(fields) => Problem::validation(
                fields
                    .into_iter()
                    .map(|(field, message)| FieldError::new(field, message))
                    .collect(),
            ),
            OrdersError::NotFound => Problem::not_found("no such order"),
            OrdersError::Refused(OrderError::InvalidTransition { status, action }) => {
                Problem::conflict(format!(
                    "an order that is {} cannot be {action}",
                    status.as_str()
                ))
            }
            OrdersError::Refused(other) => Problem::conflict(other.to_string()),
            OrdersError::Conflict => Problem::conflict(error.to_string()),
            OrdersError::KeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was used for a different request",
            ),
            OrdersError::Store(cause) => Problem::internal(&cause),
            OrdersError::Sealing(cause) => Problem::internal(&cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_race_is_a_409_never_a_500() {
        assert_eq!(
            Problem::from(OrdersError::Conflict).status,
            StatusCode::CONFLICT
        );
    }
}
