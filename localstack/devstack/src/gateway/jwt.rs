//! API Gateway's JWT authorizer: the token's RS256 signature against the user pool's JWKS,
//! its issuer, audience (`aud`, or `client_id` for access tokens), expiry and `token_use`.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

#[derive(Debug)]
pub struct Authorizer {
    issuer: String,
    audiences: Vec<String>,
    jwks_url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// Tokens that passed every check, with their claims: checking the RS256 signature again
    /// for every request was ~15% of devstack's time under load (big-integer arithmetic, slow
    /// in a debug build). A token stays accepted only until its `exp`; then it is checked in
    /// full again (and refused as before). The pool's keys never rotate on moto.
    accepted: Mutex<HashMap<String, Map<String, Value>>>,
}

/// Accepted tokens remembered at most; beyond that the memory starts again.
const ACCEPTED_TOKENS: usize = 1024;

impl Authorizer {
    /// An authorizer for tokens of `issuer` (a Cognito pool URL), with the pool's keys served
    /// by the emulator at `<emulator>/<pool id>/.well-known/jwks.json`.
    pub fn new(issuer: &str, audiences: Vec<String>, emulator: &str) -> Self {
        let pool_id = issuer.rsplit('/').next().unwrap_or_default();
        Self {
            issuer: issuer.to_owned(),
            audiences,
            jwks_url: format!(
                "{}/{pool_id}/.well-known/jwks.json",
                emulator.trim_end_matches('/')
            ),
            client: reqwest::Client::new(),
            keys: RwLock::new(HashMap::new()),
            accepted: Mutex::new(HashMap::new()),
        }
    }

    /// The claims of a token accepted before, while it has not expired.
    fn accepted(&self, token: &str) -> Option<Map<String, Value>> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let accepted = self.accepted.lock().expect("the accepted tokens");
        accepted
            .get(token)
            .filter(|claims| {
                claims
                    .get("exp")
                    .and_then(Value::as_u64)
                    .is_some_and(|exp| now <= exp)
            })
            .cloned()
    }

    fn accept(&self, token: &str, claims: &Map<String, Value>) {
        let mut accepted = self.accepted.lock().expect("the accepted tokens");
        if accepted.len() >= ACCEPTED_TOKENS {
            accepted.clear();
        }
        accepted.insert(token.to_owned(), claims.clone());
    }

    /// The verified claims of the token in an `Authorization` header value.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
    ) -> Result<Map<String, Value>, AuthError> {
        let raw = authorization
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(AuthError::Missing)?;
        let token = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .unwrap_or(raw)
            .trim();
        if let Some(claims) = self.accepted(token) {
            return Ok(claims);
        }
        let invalid = |reason: &str| AuthError::Invalid(reason.to_owned());
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid("only RS256 tokens are accepted"));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("the token names no key"))?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;

        let audience_ok = match (&claims.get("aud"), &claims.get("client_id")) {
            (Some(Value::String(aud)), _) => self.audiences.contains(aud),
            (Some(Value::Array(auds)), _) => auds.iter().any(|a| {
                a.as_str()
                    .is_some_and(|a| self.audiences.iter().any(|x| x == a))
            }),
            (None, Some(Value::String(client))) => self.audiences.contains(client),
            _ => false,
        };
        if !audience_ok {
            return Err(invalid("the token is for another audience"));
        }
        match claims.get("token_use").and_then(Value::as_str) {
            Some("id" | "access") => {
                self.accept(token, &claims);
                Ok(claims)
            }
            _ => Err(invalid("token_use must be id or access")),
        }
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        // Unknown key id: the pool may have rotated keys, so fetch the set again once.
        let jwks: JwkSet = self
            .client
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::Invalid(format!("cannot fetch the JWKS: {e}")))?
            .json()
            .await
            .map_err(|e| AuthError::Invalid(format!("unreadable JWKS: {e}")))?;
        let mut keys = self.keys.write().await;
        for jwk in &jwks.keys {
            if let (Some(id), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
                keys.insert(id, key);
            }
        }
        keys.get(kid).cloned().ok_or_else(|| {
            AuthError::Invalid("the token's key is not in the pool's JWKS".to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_or_malformed_token_is_refused_before_any_key_lookup() {
        let authorizer = Authorizer::new(
            "https://issuer/pool",
            vec!["client".into()],
            "http://127.0.0.1:9",
        );
        assert_eq!(authorizer.verify(None).await, Err(AuthError::Missing));
        assert_eq!(authorizer.verify(Some("  ")).await, Err(AuthError::Missing));
        assert!(matches!(
            authorizer.verify(Some("Bearer garbage")).await,
            Err(AuthError::Invalid(_))
        ));
        // {"alg":"none"} with an empty signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.";
        assert!(matches!(
            authorizer.verify(Some(none)).await,
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn an_accepted_token_is_remembered_only_until_it_expires() {
        let authorizer = Authorizer::new(
            "https://issuer/pool",
            vec!["client".into()],
            "http://127.0.0.1:9",
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = |exp: u64| {
            let mut claims = Map::new();
            claims.insert("exp".into(), exp.into());
            claims
        };
        authorizer.accept("live", &claims(now + 60));
        authorizer.accept("expired", &claims(now - 1));

        assert_eq!(authorizer.accepted("live"), Some(claims(now + 60)));
        assert_eq!(
            authorizer.accepted("expired"),
            None,
            "checked in full again, and refused"
        );
        assert_eq!(authorizer.accepted("never seen"), None);
    }
}
