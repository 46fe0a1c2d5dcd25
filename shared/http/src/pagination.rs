//! `limit` and opaque `cursor` pagination.
//!
//! A cursor is the store's position after the last item of a page (for DynamoDB, the
//! `LastEvaluatedKey`), serialised to JSON and base64url-encoded so clients treat it as an
//! opaque token. Decoding checks its shape; a tampered cursor can only move a client within
//! what the query would return anyway, because the store applies the query's own conditions.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldError, Problem};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Query parameters of a list request.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageRequest {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn limit(&self) -> Result<u32, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(limit @ 1..=MAX_LIMIT) => Ok(limit),
            Some(_) => Err(Problem::validation(vec![FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )])),
        }
    }

    /// The position the client asked to continue from.
    pub fn position<T: DeserializeOwned>(&self) -> Result<Option<T>, Problem> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .map(Some)
            .ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "cursor",
                    "is not a cursor this API returned",
                )])
            })
    }
}

/// Encodes a store position as a cursor.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    let json = serde_json::to_vec(position).expect("a cursor position is plain data");
    URL_SAFE_NO_PAD.encode(json)
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn request(limit: Option<u32>, cursor: Option<&str>) -> PageRequest {
        PageRequest {
            limit,
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn limit_defaults_to_twenty_and_must_be_between_one_and_a_hundred() {
        assert_eq!(request(None, None).limit().unwrap(), DEFAULT_LIMIT);
        assert_eq!(request(Some(100), None).limit().unwrap(), 100);
        assert_eq!(
            request(Some(0), None).limit().unwrap_err().errors[0].field,
            "limit"
        );
        assert!(request(Some(101), None).limit().is_err());
    }

    #[test]
    fn a_cursor_round_trips_to_the_same_position() {
        let position = BTreeMap::from([("id".to_owned(), "p-1".to_owned())]);
        let cursor = encode_cursor(&position);
        let decoded: Option<BTreeMap<String, String>> =
            request(None, Some(&cursor)).position().unwrap();
        assert_eq!(decoded, Some(position));
    }

    #[test]
    fn a_forged_cursor_is_a_400_naming_the_cursor() {
        let error = request(None, Some("not-base64!"))
            .position::<BTreeMap<String, String>>()
            .unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.errors[0].field, "cursor");
    }
}
