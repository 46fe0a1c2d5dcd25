//! The auth HTTP API (run by the `auth-http` function). Routes are registered through
//! `routes!`, so the OpenAPI document lists exactly what the router serves.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, Method, StatusCode},
    response::IntoResponse,
};
use lambda_http::request::RequestContext;
use serde::{Deserialize, Serialize};
use shop_http::{
    BearerAuth, Caller, Check, FieldError, Health, JsonBody, JsonBodyRejections, Problem,
    Unauthenticated,
};
use shop_observability::{AccessLog, BodyFields, CorrelationId, Field};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    adapters::Tokens,
    service::{Auth, AuthError, LoginSource},
};

pub fn router(auth: Auth) -> Router {
    let (routes, _) = api().split_for_parts();
    shop_http::service_router(routes.with_state(auth), access_log())
}

/// What the access log may show of auth's bodies: emails only as their hash, never a
/// password, name, code or token.
fn access_log() -> AccessLog {
    const EMAIL: &[Field] = &[Field::email_hash("email")];
    const SIGNED_UP: BodyFields = BodyFields {
        request: EMAIL,
        response: &[Field::plain("user_id"), Field::email_hash("email")],
    };
    const EMAIL_IN: BodyFields = BodyFields {
        request: EMAIL,
        response: &[],
    };
    const TOKENS_OUT: BodyFields = BodyFields {
        request: &[],
        response: &[Field::number("expires_in")],
    };
    const LOGIN: BodyFields = BodyFields {
        request: EMAIL,
        response: TOKENS_OUT.response,
    };
    const ME: BodyFields = BodyFields {
        request: &[],
        response: &[
            Field::plain("user_id"),
            Field::email_hash("email"),
            Field::plain("groups"),
        ],
    };
    AccessLog::new(crate::SERVICE)
        .route(Method::POST, "/auth/signup", SIGNED_UP)
        .route(Method::POST, "/auth/confirm", EMAIL_IN)
        .route(Method::POST, "/auth/login", LOGIN)
        .route(Method::POST, "/auth/refresh", TOKENS_OUT)
        .route(Method::GET, "/auth/me", ME)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

fn api() -> OpenApiRouter<Auth> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(signup))
        .routes(routes!(confirm))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(me))
        .routes(routes!(health))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop auth API", description = "Sign-up, confirmation, login and tokens (Cognito)."),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Users and authentication"))
)]
struct ApiDoc;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// The pool's password policy: by default at least 12 characters with a lowercase and an
    /// uppercase letter and a number, not starting or ending with a space.
    #[schema(
        min_length = 12,
        max_length = 256,
        pattern = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])\S(.*\S)?$"
    )]
    pub password: String,
    /// 1 to 100 characters, not blank.
    #[schema(
        example = "Ada Lovelace",
        min_length = 1,
        max_length = 100,
        pattern = r"\S"
    )]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedUp {
    pub user_id: String,
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// The code Cognito emailed (any value on a local stage, which confirms at sign-up).
    #[schema(min_length = 1, pattern = r"\S")]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokensView {
    pub id_token: String,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds until the id and access tokens expire.
    pub expires_in: i32,
}

impl From<Tokens> for TokensView {
    fn from(tokens: Tokens) -> Self {
        Self {
            id_token: tokens.id_token,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// Creates an account in the `customer` group.
#[utoipa::path(
    post, path = "/auth/signup", tag = "auth", request_body = SignUpRequest,
    responses(
        (status = 201, description = "Created (confirm it next)", body = SignedUp),
        (status = 400, description = "Invalid email or name, or a password rule broken (each named), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email has an account", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn signup(
    State(auth): State<Auth>,
    correlation_id: CorrelationId,
    JsonBody(body): JsonBody<SignUpRequest>,
) -> Result<impl IntoResponse, Problem> {
    let (user_id, email) = auth
        .sign_up(
            &body.email,
            &body.password,
            &body.name,
            correlation_id.as_str(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignedUp {
            user_id,
            email: email.as_str().to_owned(),
        }),
    ))
}

/// Confirms an account with the emailed code.
#[utoipa::path(
    post, path = "/auth/confirm", tag = "auth", request_body = ConfirmRequest,
    responses(
        (status = 204, description = "Confirmed"),
        (status = 400, description = "Wrong or expired code (or an unknown or confirmed account), an invalid email, no code, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn confirm(
    State(auth): State<Auth>,
    correlation_id: CorrelationId,
    JsonBody(body): JsonBody<ConfirmRequest>,
) -> Result<StatusCode, Problem> {
    auth.confirm(&body.email, &body.code, correlation_id.as_str())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs in with email and password.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens", body = TokensView),
        (status = 400, description = "Not an email address, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "One answer for every failure", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures for this account or source; see Retry-After", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn login(
    State(auth): State<Auth>,
    headers: HeaderMap,
    request_context: Option<axum::Extension<RequestContext>>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Json<TokensView>, Problem> {
    let source = LoginSource {
        ip: request_context.map_or_else(|| "unknown".to_owned(), |context| source_ip(&context.0)),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect(),
    };
    Ok(Json(
        auth.login(&body.email, &body.password, &source)
            .await?
            .into(),
    ))
}

fn source_ip(context: &RequestContext) -> String {
    match context {
        RequestContext::ApiGatewayV2(context) => context
            .http
            .source_ip
            .clone()
            .unwrap_or_else(|| "unknown".to_owned()),
        #[allow(unreachable_patterns)]
        _ => "unknown".to_owned(),
    }
}

/// New id and access tokens for a refresh token.
#[utoipa::path(
    post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "Tokens (without a new refresh token)", body = TokensView),
        (status = 400, description = "No refresh token, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid or expired refresh token", body = Problem, content_type = "application/problem+json"),
        JsonBodyRejections,
    )
)]
async fn refresh(
    State(auth): State<Auth>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokensView>, Problem> {
    Ok(Json(auth.refresh(&body.refresh_token).await?.into()))
}

/// The caller's id, email and groups.
#[utoipa::path(
    get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        Unauthenticated,
    )
)]
async fn me(State(auth): State<Auth>, caller: Caller) -> Result<Json<Me>, Problem> {
    let profile = auth.profile(&caller).await?;
    Ok(Json(Me {
        user_id: profile.user_id,
        email: profile.email,
        groups: profile.groups,
    }))
}

/// Whether auth can serve: its user pool and tables answer.
#[utoipa::path(
    get, path = "/auth/health", tag = "auth",
    responses(
        (status = 200, description = "Every check passed", body = Health),
        (status = 503, description = "A check failed or timed out; `checks` names it", body = Health),
    )
)]
async fn health(State(auth): State<Auth>) -> Health {
    Health::check(
        crate::SERVICE,
        env!("CARGO_PKG_VERSION"),
        [
            Check::new("user_pool", auth.idp.connect()),
            Check::new("login_attempts_table", auth.attempts.connect()),
            Check::new("customers_table", auth.customers.connect()),
        ],
    )
    .await
}

/// The one message of every failed login.
pub const LOGIN_FAILED: &str = "the email or password is wrong, or the account is not confirmed";

impl From<AuthError> for Problem {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(fields) => Problem::validation(
                fields
                    .into_iter()
                    .map(|(field, message)| FieldError::new(field, message))
                    .collect(),
            ),
            AuthError::EmailTaken => Problem::conflict("an account with this email exists"),
            AuthError::BadCode => Problem::bad_request("the confirmation code is wrong or expired"),
            AuthError::LoginFailed => Problem::new(
                StatusCode::UNAUTHORIZED,
                "login-failed",
                "Login failed",
                LOGIN_FAILED,
            ),
            AuthError::Throttled { retry_after } => Problem::too_many_requests(retry_after),
            AuthError::BadRefreshToken => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "Invalid refresh token",
                "the refresh token is invalid or expired; log in again",
            ),
            AuthError::Unavailable(_) => Problem::internal(&error),
        }
    }
}
