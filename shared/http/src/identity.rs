//! The caller, as API Gateway's JWT authorizer (HTTP API, payload 2.0) verified it.
//!
//! The gateway checks the token's signature, issuer, audience and expiry, then passes its
//! claims in `requestContext.authorizer.jwt.claims`. Handlers still check that claims are
//! present: a route published without the authorizer by mistake fails closed with 401.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use lambda_http::request::RequestContext;

use crate::Problem;

/// The group whose members may change the catalog, stock and other shared data.
pub const ADMIN_GROUP: &str = "admin";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Cognito's `sub`: stable, unique, never reused.
    pub user_id: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == ADMIN_GROUP)
    }

    /// Reads the caller from authorizer claims; `None` without a `sub`.
    pub fn from_claims(claims: &HashMap<String, String>) -> Option<Self> {
        let user_id = claims.get("sub").filter(|sub| !sub.is_empty())?.clone();
        Some(Self {
            user_id,
            email: claims.get("email").cloned(),
            groups: claims
                .get("cognito:groups")
                .map(|raw| parse_groups(raw))
                .unwrap_or_default(),
        })
    }

    fn from_parts(parts: &Parts) -> Option<Self> {
        match parts.extensions.get::<RequestContext>()? {
            RequestContext::ApiGatewayV2(context) => {
                Self::from_claims(&context.authorizer.as_ref()?.jwt.as_ref()?.claims)
            }
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// API Gateway flattens the `cognito:groups` array claim into a string, written as
/// `[admin customer]`; a JSON array or a comma-separated list are accepted as well.
fn parse_groups(raw: &str) -> Vec<String> {
    if let Ok(groups) = serde_json::from_str::<Vec<String>>(raw) {
        return groups;
    }
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts).ok_or_else(Problem::unauthorized)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// An authenticated caller in the admin group: 401 without identity, 403 without the group.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = <Caller as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if caller.is_admin() {
            Ok(Self(caller))
        } else {
            Err(Problem::forbidden("this operation needs the admin group"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn groups_in_api_gateway_bracket_form_are_split() {
        let caller = Caller::from_claims(&claims(&[
            ("sub", "u1"),
            ("cognito:groups", "[admin customer]"),
        ]))
        .unwrap();
        assert_eq!(caller.groups, ["admin", "customer"]);
        assert!(caller.is_admin());
    }

    #[test]
    fn groups_as_a_json_array_or_single_name_are_understood() {
        assert_eq!(
            parse_groups(r#"["customer","admin"]"#),
            ["customer", "admin"]
        );
        assert_eq!(parse_groups("customer"), ["customer"]);
        assert!(parse_groups("[]").is_empty());
    }

    #[test]
    fn a_customer_is_not_an_admin() {
        let caller =
            Caller::from_claims(&claims(&[("sub", "u2"), ("cognito:groups", "[customer]")]))
                .unwrap();
        assert!(!caller.is_admin());
    }

    #[test]
    fn claims_without_a_subject_are_no_caller() {
        assert!(Caller::from_claims(&claims(&[("email", "a@b.c")])).is_none());
        assert!(Caller::from_claims(&claims(&[("sub", "")])).is_none());
    }

    #[tokio::test]
    async fn a_request_without_authorizer_context_is_rejected_with_401() {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let rejection = <Caller as FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(rejection.status, 401);
    }
}
