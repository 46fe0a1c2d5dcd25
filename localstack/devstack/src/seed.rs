//! Demo data: an admin and a customer who can sign in, and a few products with stock, created
//! through the API (so seeding exercises the gateway, the authorizer and the catalog function).

use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
use serde_json::{Value, json};

use crate::stack::Endpoints;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the stack has no user pool and app client to seed users into")]
    NoUserPool,
    #[error("seeding {what} failed: {message}")]
    Failed { what: String, message: String },
}

fn cognito_failed(email: &str, error: impl std::error::Error + 'static) -> SeedError {
    failed(
        email,
        aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(error),
    )
}

fn failed(what: &str, error: impl std::fmt::Display) -> SeedError {
    SeedError::Failed {
        what: what.to_owned(),
        message: error.to_string(),
    }
}

/// A user that can sign in, and a fresh access token of theirs.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub password: String,
    pub groups: Vec<String>,
    pub access_token: String,
    pub id_token: String,
}

#[derive(Debug, Clone)]
pub struct Seeded {
    pub admin: User,
    pub customer: User,
    /// (sku, id) of each product created.
    pub products: Vec<(String, String)>,
}

/// The demo users' credentials. Local-only: the emulator's pool exists on this machine only.
pub const ADMIN_EMAIL: &str = "admin@shop.local";
pub const ADMIN_PASSWORD: &str = "LocalAdmin-2026";
pub const CUSTOMER_EMAIL: &str = "customer@shop.local";
pub const CUSTOMER_PASSWORD: &str = "LocalCustomer-2026";

/// Units of each seeded product in stock.
pub const STOCK_PER_PRODUCT: i64 = 25;

const PRODUCTS: &[(&str, &str, &str, i64)] = &[
    (
        "KETTLE-1L",
        "Kettle, 1 litre",
        "Boils a litre in two minutes.",
        2999,
    ),
    (
        "MUG-CERAMIC",
        "Ceramic mug",
        "Holds 350 ml; dishwasher safe.",
        899,
    ),
    (
        "TEA-GREEN-100G",
        "Green tea, 100 g",
        "Sencha from Shizuoka.",
        1250,
    ),
];

pub async fn seed(
    endpoints: &Endpoints,
    cognito: &aws_sdk_cognitoidentityprovider::Client,
) -> Result<Seeded, SeedError> {
    let (Some(pool), Some(client_id)) = (&endpoints.user_pool_id, &endpoints.user_pool_client_id)
    else {
        return Err(SeedError::NoUserPool);
    };
    let admin = create_user(
        cognito,
        pool,
        client_id,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        "Ada Admin",
        &["admin"],
    )
    .await?;
    let customer = create_user(
        cognito,
        pool,
        client_id,
        CUSTOMER_EMAIL,
        CUSTOMER_PASSWORD,
        "Carl Customer",
        &["customer"],
    )
    .await?;

    let http = reqwest::Client::new();
    let mut products = Vec::new();
    for (sku, name, description, price_cents) in PRODUCTS {
        let response = http
            .post(format!("{}/products", endpoints.api_url))
            .bearer_auth(&admin.access_token)
            .header("x-correlation-id", format!("seed-{}", sku.to_ascii_lowercase()))
            .json(&json!({"sku": sku, "name": name, "description": description, "price_cents": price_cents, "currency": "EUR"}))
            .send()
            .await
            .map_err(|e| failed(sku, e))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| failed(sku, e))?;
        if status != 201 {
            return Err(failed(
                sku,
                format!("POST /products answered {status}: {body}"),
            ));
        }
        products.push((
            (*sku).to_owned(),
            body["id"].as_str().unwrap_or_default().to_owned(),
        ));
        let stocked = http
            .put(format!("{}/inventory/{sku}", endpoints.api_url))
            .bearer_auth(&admin.access_token)
            .json(&json!({"on_hand": STOCK_PER_PRODUCT}))
            .send()
            .await
            .map_err(|e| failed(sku, e))?;
        if !stocked.status().is_success() {
            return Err(failed(
                sku,
                format!("PUT /inventory/{sku} answered {}", stocked.status()),
            ));
        }
    }
    Ok(Seeded {
        admin,
        customer,
        products,
    })
}

async fn create_user(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    client_id: &str,
    email: &str,
    password: &str,
    name: &str,
    groups: &[&str],
) -> Result<User, SeedError> {
    let attribute = |name: &str, value: &str| {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .expect("name is set")
    };
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(email)
        .message_action(MessageActionType::Suppress)
        .user_attributes(attribute("email", email))
        .user_attributes(attribute("email_verified", "true"))
        .user_attributes(attribute("name", name))
        .send()
        .await
        .map_err(|e| cognito_failed(email, e))?;
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(email)
        .password(password)
        .permanent(true)
        .send()
        .await
        .map_err(|e| cognito_failed(email, e))?;
    for group in groups {
        cognito
            .admin_add_user_to_group()
            .user_pool_id(pool)
            .username(email)
            .group_name(*group)
            .send()
            .await
            .map_err(|e| cognito_failed(email, e))?;
    }
    // The admin flow, as the auth service signs users in: the app client allows no other
    // password flow. Seeding calls the emulator with devstack's own credentials.
    let auth = cognito
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| cognito_failed(email, e))?;
    let tokens = auth
        .authentication_result
        .ok_or_else(|| failed(email, "no tokens"))?;
    Ok(User {
        email: email.to_owned(),
        password: password.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        access_token: tokens.access_token.unwrap_or_default(),
        id_token: tokens.id_token.unwrap_or_default(),
    })
}
