//! The Cognito user pool. Cognito stores and hashes the passwords; this code only passes them
//! through, and classifies Cognito's errors into what the service acts on.

use aws_sdk_cognitoidentityprovider::{
    Client,
    error::{DisplayErrorContext, SdkError},
    operation::{
        admin_get_user::AdminGetUserError, admin_initiate_auth::AdminInitiateAuthError,
        confirm_sign_up::ConfirmSignUpError, initiate_auth::InitiateAuthError,
        sign_up::SignUpError,
    },
    types::{AttributeType, AuthFlowType, AuthenticationResultType, UserStatusType},
};

use crate::domain::Email;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("an account with this email exists")]
    UserExists,
    #[error("the password does not meet the pool's policy: {0}")]
    InvalidPassword(String),
    /// The pool refused the address as a user name, though `Email::parse` took it: Cognito's
    /// idea of an email address is narrower than RFC 5321's (moto's refuses a `/` or `{` in
    /// the local part).
    #[error("the user pool does not take this email address: {0}")]
    InvalidEmail(String),
    /// Wrong password, unknown user, unconfirmed user, disabled user: the reason is for logs
    /// and metrics only; clients get one answer for all of them.
    #[error("login refused: {0}")]
    BadCredentials(&'static str),
    #[error("the confirmation code is wrong or expired")]
    BadCode,
    #[error("the refresh token is invalid or expired")]
    BadRefreshToken,
    #[error("Cognito failed: {0}")]
    Unavailable(String),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<SdkError<E, R>> for ProviderError {
    fn from(error: SdkError<E, R>) -> Self {
        Self::Unavailable(DisplayErrorContext(error).to_string())
    }
}

/// Tokens of a signed-in user. Never logged: `Debug` shows only the expiry.
#[derive(Clone)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    /// Absent on a refresh: Cognito keeps the refresh token the client has.
    pub refresh_token: Option<String>,
    pub expires_in: i32,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    fn from_result(result: Option<AuthenticationResultType>) -> Result<Self, ProviderError> {
        let result = result.ok_or_else(|| {
            ProviderError::Unavailable("Cognito answered with a challenge, not tokens".to_owned())
        })?;
        Ok(Self {
            id_token: result.id_token.unwrap_or_default(),
            access_token: result.access_token.unwrap_or_default(),
            refresh_token: result.refresh_token,
            expires_in: result.expires_in,
        })
    }
}

#[derive(Debug, Clone)]
pub struct IdentityProvider {
    client: Client,
    user_pool_id: String,
    client_id: String,
}

/// A user as the pool knows them.
#[derive(Debug, Clone)]
pub struct PoolUser {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub confirmed: bool,
}

impl IdentityProvider {
    pub fn new(client: Client, user_pool_id: String, client_id: String) -> Self {
        Self {
            client,
            user_pool_id,
            client_id,
        }
    }

    /// Checks the pool exists, opening the connection during init.
    pub async fn connect(&self) -> Result<(), ProviderError> {
        self.client
            .describe_user_pool()
            .user_pool_id(&self.user_pool_id)
            .send()
            .await?;
        Ok(())
    }

    /// Registers a user and puts them in the `customer` group; returns their id (`sub`).
    pub async fn sign_up(
        &self,
        email: &Email,
        password: &str,
        name: &str,
    ) -> Result<String, ProviderError> {
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .expect("name is set")
        };
        let output = self
            .client
            .sign_up()
            .client_id(&self.client_id)
            .username(email.as_str())
            .password(password)
            .user_attributes(attribute("email", email.as_str()))
            .user_attributes(attribute("name", name))
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(SignUpError::UsernameExistsException(_)) => ProviderError::UserExists,
                Some(SignUpError::InvalidPasswordException(e)) => {
                    ProviderError::InvalidPassword(e.message().unwrap_or("too weak").to_owned())
                }
                // The request's other parameters are ours or already bounded (the name to 100
                // characters, Cognito allows 2048), so what the pool refuses is the address.
                Some(SignUpError::InvalidParameterException(e)) => ProviderError::InvalidEmail(
                    e.message().unwrap_or("invalid parameter").to_owned(),
                ),
                _ => error.into(),
            })?;
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.user_pool_id)
            .username(email.as_str())
            .group_name("customer")
            .send()
            .await?;
        Ok(output.user_sub)
    }

    /// Confirms a sign-up with the emailed code.
    pub async fn confirm(&self, email: &Email, code: &str) -> Result<(), ProviderError> {
        self.client
            .confirm_sign_up()
            .client_id(&self.client_id)
            .username(email.as_str())
            .confirmation_code(code)
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                // Cognito refuses to confirm a confirmed user with NotAuthorized; answered like
                // a wrong code so a repeat cannot tell a confirmed account from an unknown one.
                Some(
                    ConfirmSignUpError::CodeMismatchException(_)
                    | ConfirmSignUpError::ExpiredCodeException(_)
                    | ConfirmSignUpError::UserNotFoundException(_)
                    | ConfirmSignUpError::NotAuthorizedException(_),
                ) => ProviderError::BadCode,
                _ => error.into(),
            })?;
        Ok(())
    }

    /// Confirms a sign-up without a code (local stages).
    pub async fn confirm_without_code(&self, email: &Email) -> Result<(), ProviderError> {
        self.client
            .admin_confirm_sign_up()
            .user_pool_id(&self.user_pool_id)
            .username(email.as_str())
            .send()
            .await?;
        Ok(())
    }

    /// The user behind an email, for confirming and recording a customer. An unknown email is
    /// answered like a wrong code, so confirmation reveals no accounts.
    pub async fn user(&self, email: &Email) -> Result<PoolUser, ProviderError> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(email.as_str())
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(AdminGetUserError::UserNotFoundException(_)) => ProviderError::BadCode,
                _ => error.into(),
            })?;
        let attribute = |name: &str| {
            user.user_attributes()
                .iter()
                .find(|a| a.name() == name)
                .and_then(|a| a.value())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(PoolUser {
            user_id: attribute("sub"),
            email: email.as_str().to_owned(),
            name: attribute("name"),
            confirmed: user.user_status() == Some(&UserStatusType::Confirmed),
        })
    }

    /// Checks a password with the admin flow, which only a caller allowed
    /// `cognito-idp:AdminInitiateAuth` on the pool can use: the app client allows no password
    /// flow of its own, so no one can check passwords against Cognito directly with its public
    /// id and skip this service's lockout and audit.
    pub async fn login(&self, email: &Email, password: &str) -> Result<Tokens, ProviderError> {
        let output = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.user_pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", email.as_str())
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(AdminInitiateAuthError::NotAuthorizedException(_)) => {
                    ProviderError::BadCredentials("not_authorized")
                }
                Some(AdminInitiateAuthError::UserNotFoundException(_)) => {
                    ProviderError::BadCredentials("unknown_user")
                }
                Some(AdminInitiateAuthError::UserNotConfirmedException(_)) => {
                    ProviderError::BadCredentials("not_confirmed")
                }
                Some(AdminInitiateAuthError::PasswordResetRequiredException(_)) => {
                    ProviderError::BadCredentials("password_reset_required")
                }
                _ => error.into(),
            })?;
        Tokens::from_result(output.authentication_result)
    }

    /// New tokens for a refresh token. This flow stays on the public `InitiateAuth`: it needs
    /// a refresh token, which only a login hands out, never a password.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ProviderError> {
        let output = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(
                    InitiateAuthError::NotAuthorizedException(_)
                    | InitiateAuthError::UserNotFoundException(_),
                ) => ProviderError::BadRefreshToken,
                _ => error.into(),
            })?;
        Tokens::from_result(output.authentication_result)
    }

    /// A signed-in user's email, for tokens that do not carry it (access tokens).
    pub async fn email_of(&self, user_id: &str) -> Result<Option<String>, ProviderError> {
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(user_id)
            .send()
            .await?;
        Ok(user
            .user_attributes()
            .iter()
            .find(|a| a.name() == "email")
            .and_then(|a| a.value())
            .map(str::to_owned))
    }
}
