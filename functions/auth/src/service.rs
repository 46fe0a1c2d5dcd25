//! The auth use cases: sign-up, confirmation, login with lockout, refresh and the profile.

use shop_http::Caller;
use shop_observability::{CorrelationId, Metrics, metric_names};
use time::OffsetDateTime;

use crate::{
    adapters::{
        Customer, Customers, IdentityProvider, LoginAttempts, PoolUser, ProviderError, StoreError,
        Tokens,
    },
    domain::{Counter, Email, Lockout, PasswordPolicy},
};

pub const NAME_MAX_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Fields that are malformed, each with a message.
    #[error("invalid request")]
    Invalid(Vec<(&'static str, String)>),
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("the confirmation code is wrong or expired")]
    BadCode,
    /// Any failed login, whatever the reason: clients cannot tell an unknown account from a
    /// wrong password.
    #[error("the email or password is wrong, or the account is not confirmed")]
    LoginFailed,
    #[error("too many failed logins; retry after {retry_after} s")]
    Throttled { retry_after: u64 },
    #[error("the refresh token is invalid or expired")]
    BadRefreshToken,
    #[error("a dependency failed: {0}")]
    Unavailable(String),
}

impl From<ProviderError> for AuthError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::UserExists => Self::EmailTaken,
            ProviderError::InvalidPassword(message) => Self::Invalid(vec![("password", message)]),
            ProviderError::InvalidEmail(_) => {
                Self::Invalid(vec![("email", crate::domain::InvalidEmail.to_string())])
            }
            ProviderError::BadCredentials(_) => Self::LoginFailed,
            ProviderError::BadCode => Self::BadCode,
            ProviderError::BadRefreshToken => Self::BadRefreshToken,
            ProviderError::Unavailable(message) => Self::Unavailable(message),
        }
    }
}

fn unavailable(error: impl std::fmt::Display) -> AuthError {
    AuthError::Unavailable(error.to_string())
}

/// Who is trying to log in, for throttling and the audit line.
#[derive(Debug, Clone)]
pub struct LoginSource {
    pub ip: String,
    pub user_agent: String,
}

/// The caller's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Auth {
    pub idp: IdentityProvider,
    pub attempts: LoginAttempts,
    pub customers: Customers,
    pub policy: PasswordPolicy,
    pub lockout: Lockout,
    pub auto_confirm: bool,
}

impl Auth {
    /// Registers a user in the `customer` group; returns their id and email.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        name: &str,
        correlation_id: &str,
    ) -> Result<(String, Email), AuthError> {
        let mut invalid = Vec::new();
        let email = Email::parse(email)
            .map_err(|e| invalid.push(("email", e.to_string())))
            .ok();
        invalid.extend(
            self.policy
                .violations(password)
                .into_iter()
                .map(|rule| ("password", rule)),
        );
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
            invalid.push(("name", format!("must be 1 to {NAME_MAX_CHARS} characters")));
        }
        let Some(email) = email.filter(|_| invalid.is_empty()) else {
            return Err(AuthError::Invalid(invalid));
        };
        let user_id = self.idp.sign_up(&email, password, name).await?;
        if self.auto_confirm {
            self.idp.confirm_without_code(&email).await?;
            self.record_customer(self.idp.user(&email).await?, correlation_id)
                .await?;
        }
        Ok((user_id, email))
    }

    /// Confirms a sign-up and records the customer (announcing CustomerRegistered once).
    ///
    /// An account that is already confirmed is answered like an unknown email (400), so
    /// confirming reveals no accounts; its customer is still recorded, so a retry after a
    /// confirmation whose recording failed repairs it.
    pub async fn confirm(
        &self,
        email: &str,
        code: &str,
        correlation_id: &str,
    ) -> Result<(), AuthError> {
        let email =
            Email::parse(email).map_err(|e| AuthError::Invalid(vec![("email", e.to_string())]))?;
        if code.trim().is_empty() {
            return Err(AuthError::Invalid(vec![("code", "is required".to_owned())]));
        }
        let user = self.idp.user(&email).await?;
        // A local stage confirmed at sign-up; its clients still call confirm and expect 204.
        if self.auto_confirm {
            return self.record_customer(user, correlation_id).await;
        }
        if user.confirmed {
            self.record_customer(user, correlation_id).await?;
            return Err(AuthError::BadCode);
        }
        self.idp.confirm(&email, code.trim()).await?;
        self.record_customer(user, correlation_id).await
    }

    async fn record_customer(&self, user: PoolUser, correlation_id: &str) -> Result<(), AuthError> {
        let customer = Customer {
            user_id: user.user_id,
            email: user.email,
            name: user.name,
            registered_at: OffsetDateTime::now_utc(),
        };
        self.customers
            .register(&customer, correlation_id)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Logs a user in, unless the account from this source, the account, or the source is
    /// over its failure limit. Every attempt is one audit log line and one metric; neither
    /// contains the password.
    ///
    /// The attempt takes its counts (`domain::lockout`) before Cognito sees the password, so
    /// parallel guesses are each counted before any is checked. A failed guess keeps them; a
    /// success gives back the account's and the source's and clears the account-from-source
    /// counter (the caller proved the password from there); an attempt Cognito could not
    /// answer was no guess and gives all back.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        source: &LoginSource,
    ) -> Result<Tokens, AuthError> {
        let email =
            Email::parse(email).map_err(|e| AuthError::Invalid(vec![("email", e.to_string())]))?;
        let account = email.hashed();
        let now = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
        let window = self.lockout.window(now);
        let [from_source, of_account, of_source] =
            self.lockout.counters(&account, &source.ip, window);
        let expires_at = self.lockout.expires_at(window);

        let mut taken: Vec<&Counter> = Vec::new();
        for counter in [&from_source, &of_account, &of_source] {
            match self
                .attempts
                .reserve(&counter.key, counter.limit, expires_at)
                .await
            {
                Ok(true) => taken.push(counter),
                Ok(false) => {
                    self.give_back(&taken).await;
                    let reason = format!("too_many_failures_{}", counter.scope.as_str());
                    audit(&account, source, "throttled", &reason);
                    Metrics::new(crate::SERVICE)
                        .dimension(metric_names::LIMIT, counter.scope.as_str())
                        .count(metric_names::LOGIN_THROTTLED.name, 1)
                        .emit();
                    return Err(AuthError::Throttled {
                        retry_after: self.lockout.retry_after(now),
                    });
                }
                Err(error) => {
                    self.give_back(&taken).await;
                    audit(&account, source, "error", "counters_unavailable");
                    return Err(unavailable(error));
                }
            }
        }

        match self.idp.login(&email, password).await {
            Ok(tokens) => {
                audit(&account, source, "succeeded", "ok");
                Metrics::new(crate::SERVICE)
                    .count(metric_names::LOGIN_SUCCEEDED.name, 1)
                    .emit();
                // Boxed: three SDK calls side by side would make every login's future large.
                let (cleared, account_back, source_back) = tokio::join!(
                    Box::pin(self.attempts.clear(&from_source.key)),
                    Box::pin(self.attempts.release(&of_account.key)),
                    Box::pin(self.attempts.release(&of_source.key)),
                );
                for (counter, result) in [
                    (&from_source, cleared),
                    (&of_account, account_back),
                    (&of_source, source_back),
                ] {
                    if let Err(error) = result {
                        counter_left(counter, &error);
                    }
                }
                Ok(tokens)
            }
            Err(ProviderError::BadCredentials(reason)) => {
                audit(&account, source, "failed", reason);
                Metrics::new(crate::SERVICE)
                    .dimension(metric_names::REASON, reason)
                    .count(metric_names::LOGIN_FAILED.name, 1)
                    .emit();
                Err(AuthError::LoginFailed)
            }
            Err(other) => {
                self.give_back(&taken).await;
                audit(&account, source, "error", "provider_unavailable");
                Err(other.into())
            }
        }
    }

    /// Returns one count to each counter. A count that cannot be returned stays taken until its
    /// window ends, which errs towards refusing: it is logged, and the answer the attempt earned
    /// stands.
    async fn give_back(&self, counters: &[&Counter]) {
        for counter in counters {
            if let Err(error) = self.attempts.release(&counter.key).await {
                counter_left(counter, &error);
            }
        }
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, AuthError> {
        if refresh_token.trim().is_empty() {
            return Err(AuthError::Invalid(vec![(
                "refresh_token",
                "is required".to_owned(),
            )]));
        }
        Ok(self.idp.refresh(refresh_token).await?)
    }

    /// The caller's id, email and groups. Access tokens carry no email, so it is looked up.
    pub async fn profile(&self, caller: &Caller) -> Result<Profile, AuthError> {
        let email = match &caller.email {
            Some(email) => Some(email.clone()),
            None => self.idp.email_of(&caller.user_id).await?,
        };
        Ok(Profile {
            user_id: caller.user_id.clone(),
            email,
            groups: caller.groups.clone(),
        })
    }
}

/// A count that stays taken after an attempt that should have returned it.
fn counter_left(counter: &Counter, error: &StoreError) {
    tracing::warn!(
        counter = %counter.key,
        error = %shop_aws::error_chain(error),
        "a login count could not be returned; it stays until its window ends"
    );
}

/// The audit line of one login attempt.
fn audit(account: &str, source: &LoginSource, outcome: &str, reason: &str) {
    let correlation_id = CorrelationId::current()
        .map(|id| id.to_string())
        .unwrap_or_default();
    tracing::info!(
        audit = "login_attempt",
        correlation_id,
        email_hash = account,
        outcome,
        reason,
        source_ip = %source.ip,
        user_agent = %source.user_agent,
        "login attempt"
    );
}
