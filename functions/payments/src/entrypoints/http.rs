//! The payments HTTP API (run by `payments-http`): an order's payment beside the card
//! provider's own books for it, for admins.

use axum::{
    Json, Router,
    extract::{Path, State},
};
use serde::Serialize;
use shop_http::{Admin, BearerAuth, Check, FieldError, Health, Problem, Unauthenticated};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    adapters::SimulatedProvider,
    domain::{Payment, PaymentStatus},
    ports::LedgerEntry,
    service::Payments,
};

type Service = Payments<SimulatedProvider>;

pub fn router(payments: Service) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(routes.with_state(payments), crate::SERVICE)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<Service> {
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

/// An order's payment as payments recorded it, and what the card provider holds for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub order_id: String,
    #[schema(value_type = String, example = "AUTHORIZED")]
    pub status: PaymentStatus,
    pub amount_cents: i64,
    pub currency: String,
    pub authorization_id: Option<String>,
    /// Authorization attempts payments made.
    pub attempts: u32,
    pub refunded_cents: i64,
    /// The provider's ledger for the order (its idempotency key); absent when the provider was
    /// never asked. A rejected order's hold is voided in full, a cancelled one's refunded.
    pub provider: Option<ProviderView>,
}

/// What the card provider holds for one order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    /// Authorizations the provider was asked for.
    pub attempts: u32,
    /// The one hold, once placed.
    pub authorization_id: Option<String>,
    pub authorized_cents: i64,
    pub voided_cents: i64,
    pub refunded_cents: i64,
    pub currency: String,
}

impl PaymentView {
    fn of(payment: Payment, ledger: Option<LedgerEntry>) -> Self {
        Self {
            order_id: payment.order_id,
            status: payment.status,
            amount_cents: payment.amount_cents,
            currency: payment.currency,
            authorization_id: payment.authorization_id,
            attempts: payment.attempts,
            refunded_cents: payment.refunded_cents,
            provider: ledger.map(|entry| ProviderView {
                attempts: entry.attempts,
                authorization_id: entry.authorization_id,
                authorized_cents: entry.authorized_cents,
                voided_cents: entry.voided_cents,
                refunded_cents: entry.refunded_cents,
                currency: entry.currency,
            }),
        }
    }
}

/// An order's payment and the provider's books for it (admin only).
#[utoipa::path(
    get, path = "/payments/{order_id}", tag = "payments", params(("order_id" = String, Path)),
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "The payment and the provider's ledger", body = PaymentView),
        Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No payment for this order", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_payment(
    State(payments): State<Service>,
    _admin: Admin,
    Path(order_id): Path<String>,
) -> Result<Json<PaymentView>, Problem> {
    // Order ids are UUIDs; anything else has no payment, and a key over DynamoDB's 2048 bytes
    // would be refused with an error there.
    if uuid::Uuid::try_parse(&order_id).is_err() {
        return Err(Problem::not_found("no payment for this order"));
    }
    let payment = match payments.table.get(&order_id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => return Err(Problem::not_found("no payment for this order")),
        Err(error) => return Err(Problem::internal(&error)),
    };
    let ledger = payments
        .provider_ledger(&order_id)
        .await
        .map_err(|error| Problem::internal(&error))?;
    Ok(Json(PaymentView::of(payment, ledger)))
}

/// Whether payments can serve: its table answers.
#[utoipa::path(
    get, path = "/payments/health", tag = "payments",
    responses(
        (status = 200, description = "Every check passed", body = Health),
        (status = 503, description = "A check failed or timed out; `checks` names it", body = Health),
    )
)]
async fn health(State(payments): State<Service>) -> Health {
    Health::check(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        [Check::new("payments_table", payments.table.connect())],
    )
    .await
}
