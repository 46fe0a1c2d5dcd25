//! The app client rules Cognito applies and moto does not: which authentication flows a client
//! allows (`ExplicitAuthFlows`), and the secret hash a client with a secret requires on every
//! call that names a user. Without them a client configured for admin-only login would still
//! accept a password from anyone who knows its id, as it never would on AWS.

use std::collections::HashMap;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::provision::AppClient;

/// Cognito's default when a client names no flows.
const DEFAULT_FLOWS: &[&str] = &[
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// Calls that carry `SecretHash` at the top level when the client has a secret.
const NAMES_A_USER: &[&str] = &[
    "SignUp",
    "ConfirmSignUp",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "ResendConfirmationCode",
];

/// A refused call, as Cognito answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error_type: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct AppClients {
    by_id: HashMap<String, AppClient>,
}

impl AppClients {
    pub fn new(clients: impl IntoIterator<Item = AppClient>) -> Self {
        Self {
            by_id: clients.into_iter().map(|c| (c.id.clone(), c)).collect(),
        }
    }

    /// Whether a call with `X-Amz-Target` `target` and JSON `body` passes its app client's
    /// rules. Calls to other services, and clients the template does not declare, pass.
    pub fn check(&self, target: &str, body: &[u8]) -> Result<(), Refusal> {
        let Some(operation) = target.strip_prefix("AWSCognitoIdentityProviderService.") else {
            return Ok(());
        };
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return Ok(());
        };
        let Some(client) = body["ClientId"].as_str().and_then(|id| self.by_id.get(id)) else {
            return Ok(());
        };
        match operation {
            "InitiateAuth" | "AdminInitiateAuth" => {
                let flow = body["AuthFlow"].as_str().unwrap_or_default();
                if !allows(client, flow) {
                    // Cognito names the flow for InitiateAuth and not for AdminInitiateAuth.
                    let message = if operation == "InitiateAuth" {
                        format!("{flow} flow not enabled for this client")
                    } else {
                        "Auth flow not enabled for this client".to_owned()
                    };
                    return Err(Refusal {
                        error_type: "InvalidParameterException",
                        message,
                    });
                }
                let parameters = &body["AuthParameters"];
                check_secret_hash(client, &parameters["USERNAME"], &parameters["SECRET_HASH"])
            }
            _ if NAMES_A_USER.contains(&operation) => {
                check_secret_hash(client, &body["Username"], &body["SecretHash"])
            }
            _ => Ok(()),
        }
    }
}

/// Whether `client` allows the authentication flow `flow` (a flow of InitiateAuth or
/// AdminInitiateAuth), under the current names and the legacy ones Cognito still accepts.
fn allows(client: &AppClient, flow: &str) -> bool {
    let enabling: &[&str] = match flow {
        "USER_PASSWORD_AUTH" => &["ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"],
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            &["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]
        }
        "USER_SRP_AUTH" => &["ALLOW_USER_SRP_AUTH"],
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => &["ALLOW_REFRESH_TOKEN_AUTH"],
        "CUSTOM_AUTH" => &["ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"],
        "USER_AUTH" => &["ALLOW_USER_AUTH"],
        _ => &[],
    };
    let declared: Vec<&str> = if client.explicit_auth_flows.is_empty() {
        DEFAULT_FLOWS.to_vec()
    } else {
        client
            .explicit_auth_flows
            .iter()
            .map(String::as_str)
            .collect()
    };
    declared.iter().any(|d| enabling.contains(d))
}

/// A client with a secret needs `SECRET_HASH` = Base64(HMAC-SHA256(secret, username +
/// client id)) with every call that names a user. Refreshing names no user: the hash must be
/// present, and is checked when `USERNAME` is given.
fn check_secret_hash(client: &AppClient, username: &Value, hash: &Value) -> Result<(), Refusal> {
    let Some(secret) = &client.secret else {
        return Ok(());
    };
    let not_authorized = |message: String| Refusal {
        error_type: "NotAuthorizedException",
        message,
    };
    let Some(hash) = hash.as_str() else {
        return Err(not_authorized(format!(
            "Client {} is configured with secret but SECRET_HASH was not received",
            client.id
        )));
    };
    match username.as_str() {
        Some(username) if hash != secret_hash(secret, username, &client.id) => Err(not_authorized(
            format!("Unable to verify secret hash for client {}", client.id),
        )),
        _ => Ok(()),
    }
}

pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn clients() -> AppClients {
        AppClients::new([
            AppClient {
                id: "admin-only".to_owned(),
                explicit_auth_flows: vec![
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH".to_owned(),
                    "ALLOW_REFRESH_TOKEN_AUTH".to_owned(),
                ],
                secret: None,
            },
            AppClient {
                id: "confidential".to_owned(),
                explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".to_owned()],
                secret: Some("s3cret".to_owned()),
            },
            AppClient {
                id: "defaults".to_owned(),
                explicit_auth_flows: Vec::new(),
                secret: None,
            },
        ])
    }

    fn login(client: &str, flow: &str, parameters: &Value) -> Result<(), Refusal> {
        let body = json!({"ClientId": client, "AuthFlow": flow, "AuthParameters": parameters});
        clients().check(
            "AWSCognitoIdentityProviderService.InitiateAuth",
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn a_password_login_on_an_admin_only_client_is_refused_as_cognito_refuses_it() {
        let refused = login(
            "admin-only",
            "USER_PASSWORD_AUTH",
            &json!({"USERNAME": "a", "PASSWORD": "b"}),
        )
        .unwrap_err();
        assert_eq!(refused.error_type, "InvalidParameterException");
        assert_eq!(
            refused.message,
            "USER_PASSWORD_AUTH flow not enabled for this client"
        );
        assert_eq!(
            login(
                "admin-only",
                "REFRESH_TOKEN_AUTH",
                &json!({"REFRESH_TOKEN": "t"})
            ),
            Ok(())
        );
        let admin = json!({"UserPoolId": "p", "ClientId": "admin-only", "AuthFlow": "ADMIN_USER_PASSWORD_AUTH"});
        assert_eq!(
            clients().check(
                "AWSCognitoIdentityProviderService.AdminInitiateAuth",
                admin.to_string().as_bytes()
            ),
            Ok(())
        );
    }

    #[test]
    fn a_client_without_flows_allows_only_cognitos_defaults() {
        assert!(login("defaults", "USER_PASSWORD_AUTH", &json!({})).is_err());
        assert!(login("defaults", "USER_SRP_AUTH", &json!({})).is_ok());
        let admin = json!({"ClientId": "defaults", "AuthFlow": "ADMIN_USER_PASSWORD_AUTH"});
        let refused = clients()
            .check(
                "AWSCognitoIdentityProviderService.AdminInitiateAuth",
                admin.to_string().as_bytes(),
            )
            .unwrap_err();
        assert_eq!(refused.message, "Auth flow not enabled for this client");
    }

    #[test]
    fn a_confidential_client_needs_the_right_secret_hash() {
        let right = secret_hash("s3cret", "ann", "confidential");
        assert_eq!(
            login(
                "confidential",
                "USER_PASSWORD_AUTH",
                &json!({"USERNAME": "ann", "PASSWORD": "p", "SECRET_HASH": right})
            ),
            Ok(())
        );
        let missing = login(
            "confidential",
            "USER_PASSWORD_AUTH",
            &json!({"USERNAME": "ann", "PASSWORD": "p"}),
        )
        .unwrap_err();
        assert_eq!(missing.error_type, "NotAuthorizedException");
        let wrong = secret_hash("other", "ann", "confidential");
        let refused = login(
            "confidential",
            "USER_PASSWORD_AUTH",
            &json!({"USERNAME": "ann", "PASSWORD": "p", "SECRET_HASH": wrong}),
        )
        .unwrap_err();
        assert_eq!(
            refused.message,
            "Unable to verify secret hash for client confidential"
        );
        let sign_up = json!({"ClientId": "confidential", "Username": "ann", "Password": "p"});
        assert!(
            clients()
                .check(
                    "AWSCognitoIdentityProviderService.SignUp",
                    sign_up.to_string().as_bytes()
                )
                .is_err()
        );
    }

    #[test]
    fn other_services_and_undeclared_clients_pass() {
        assert_eq!(clients().check("DynamoDB_20120810.GetItem", b"{}"), Ok(()));
        assert_eq!(login("unknown", "USER_PASSWORD_AUTH", &json!({})), Ok(()));
    }
}
