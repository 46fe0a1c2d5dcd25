//! Correlation ids: one id follows a request (or an order's whole life) through every log
//! line, response and event.
//!
//! The id of the request being served lives in a task-local, so code far from the HTTP layer
//! (error rendering, event publishing) can read it without threading it through every call.

use std::future::Future;

use http::HeaderMap;

/// The header clients may send and that every response echoes.
pub const HEADER: &str = "x-correlation-id";

/// Longest id accepted from a client; longer or odd ones are replaced, so a caller cannot
/// stuff arbitrary text into our logs.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: CorrelationId;
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(String);

impl CorrelationId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Accepts an id made of at most 128 letters, digits, `-`, `_`, `.` or `:`.
    pub fn parse(raw: &str) -> Option<Self> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        valid.then(|| Self(raw.to_owned()))
    }

    /// The id a request carries in its header, or a new one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Runs `future` with this id as the current one.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// The id of the request or message being handled, if any.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }
}

/// In a handler: the id of the current request (set by the access log layer), else the one
/// in its header, else a new one.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CorrelationId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::current().unwrap_or_else(|| Self::from_headers(&parts.headers)))
    }
}

impl std::fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_well_formed_client_id() {
        assert_eq!(
            CorrelationId::parse("order-42:abc").unwrap().as_str(),
            "order-42:abc"
        );
    }

    #[test]
    fn refuses_ids_with_spaces_newlines_or_excess_length() {
        assert!(CorrelationId::parse("two words").is_none());
        assert!(CorrelationId::parse("line\nbreak").is_none());
        assert!(CorrelationId::parse(&"a".repeat(129)).is_none());
        assert!(CorrelationId::parse("").is_none());
    }

    #[test]
    fn a_request_without_a_usable_header_gets_a_new_id() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, "bad id".parse().unwrap());
        let id = CorrelationId::from_headers(&headers);
        assert_ne!(id.as_str(), "bad id");
        assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
    }

    #[tokio::test]
    async fn current_is_visible_inside_the_scope_only() {
        let id = CorrelationId::generate();
        let seen = id.clone().scope(async { CorrelationId::current() }).await;
        assert_eq!(seen, Some(id));
        assert_eq!(CorrelationId::current(), None);
    }
}
