//! Makes request and response bodies safe and small enough to log.
//!
//! A body is logged only through an allow-list: each route names the JSON fields whose values
//! may be logged, and every other field is dropped and counted. A body that is not JSON is
//! described by its length and content type, never shown: a login with one syntax error would
//! otherwise write its password to the logs.

use std::fmt::Write;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Bodies are cut to this many bytes in logs.
pub const MAX_LOGGED_BYTES: usize = 2048;

/// The key under which an object's count of dropped fields is logged.
pub const REDACTED_KEY: &str = "[REDACTED]";

/// How an allowed field's value reaches the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Verbatim,
    Number,
    Id,
    EmailHash,
}

/// A JSON field, by name at any depth, whose value may be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    name: &'static str,
    shown: Shown,
}

impl Field {
    /// A field logged as it is (a SKU, a price, an id).
    pub const fn plain(name: &'static str) -> Self {
        Self {
            name,
            shown: Shown::Verbatim,
        }
    }

    /// A field logged only when it holds a number: a client can put any text, a password
    /// included, where a number belongs.
    pub const fn number(name: &'static str) -> Self {
        Self {
            name,
            shown: Shown::Number,
        }
    }

    /// A field logged only when it holds a UUID, for ids clients send.
    pub const fn id(name: &'static str) -> Self {
        Self {
            name,
            shown: Shown::Id,
        }
    }

    /// An email address, logged only as its [`email_hash`] so attempts on one account can be
    /// correlated without logging the address.
    pub const fn email_hash(name: &'static str) -> Self {
        Self {
            name,
            shown: Shown::EmailHash,
        }
    }
}

/// The fields one route may log of its request and response bodies.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyFields {
    pub request: &'static [Field],
    pub response: &'static [Field],
}

/// What a problem+json answer may log: its `detail` and messages can quote the input, so
/// only the kind of problem and the names of the fields at fault are shown.
pub const PROBLEM_FIELDS: &[Field] = &[
    Field::plain("type"),
    Field::plain("title"),
    Field::number("status"),
    Field::plain("errors"),
    Field::plain("field"),
    Field::plain("correlation_id"),
];

/// A stable pseudonym of an email address for logs and counters: the first 16 bytes of the
/// SHA-256 of the trimmed, lower-cased address, in hex. Auth's audit line and the access log
/// both use it, so one account has one pseudonym everywhere.
pub fn email_hash(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in &digest[..16] {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A loggable rendering of `body`: JSON keeps only the `allowed` fields (objects and arrays
/// under an allowed name are walked with the same list), capped in size; anything else is
/// its length and content type.
pub fn body_for_log(body: &[u8], content_type: Option<&str>, allowed: &[Field]) -> String {
    if body.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => truncate(keep_allowed(json, allowed).to_string()),
        Err(_) => format!(
            "<{} bytes of {}>",
            body.len(),
            content_type.unwrap_or("unknown content type")
        ),
    }
}

/// An object keeps its allowed fields and the count of the others; an array keeps its
/// items' allowed parts; a bare value is only logged under an allowed name (an allowed
/// array's items are under its name).
fn keep_allowed(value: Value, allowed: &[Field]) -> Value {
    match value {
        Value::Object(map) => {
            let mut kept = Map::new();
            let mut dropped = 0_u64;
            for (key, value) in map {
                match allowed.iter().find(|field| field.name == key) {
                    Some(field) => {
                        let shown = show(value, field.shown, allowed);
                        kept.insert(key, shown);
                    }
                    None => dropped += 1,
                }
            }
            if dropped > 0 {
                kept.insert(REDACTED_KEY.to_owned(), Value::from(dropped));
            }
            Value::Object(kept)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| keep_allowed(item, allowed))
                .collect(),
        ),
        _ => Value::String(REDACTED_KEY.to_owned()),
    }
}

fn show(value: Value, shown: Shown, allowed: &[Field]) -> Value {
    match (shown, value) {
        (Shown::EmailHash, Value::String(email)) => Value::String(email_hash(&email)),
        (Shown::Number, value @ Value::Number(_)) => value,
        (Shown::Id, Value::String(id)) if uuid::Uuid::try_parse(&id).is_ok() => Value::String(id),
        (Shown::EmailHash | Shown::Number | Shown::Id, _) => Value::String(REDACTED_KEY.to_owned()),
        (Shown::Verbatim, value @ Value::Object(_)) => keep_allowed(value, allowed),
        (Shown::Verbatim, Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| show(item, Shown::Verbatim, allowed))
                .collect(),
        ),
        (Shown::Verbatim, value) => value,
    }
}

fn truncate(text: String) -> String {
    if text.len() <= MAX_LOGGED_BYTES {
        return text;
    }
    let mut cut = MAX_LOGGED_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…[{} bytes in all]", &text[..cut], text.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(logged: &str) -> Value {
        serde_json::from_str(logged).unwrap()
    }

    const PRODUCT: &[Field] = &[
        Field::plain("sku"),
        Field::plain("lines"),
        Field::number("quantity"),
        Field::id("product_id"),
        Field::email_hash("email"),
    ];

    #[test]
    fn only_allowed_fields_are_logged_and_the_others_are_counted() {
        let logged = body_for_log(
            br#"{"sku":"SKU-1","password":"hunter2","name":"Ada","address":{"line1":"Main St"}}"#,
            Some("application/json"),
            PRODUCT,
        );
        assert_eq!(parsed(&logged), json!({"sku": "SKU-1", "[REDACTED]": 3}));
    }

    #[test]
    fn allowed_containers_are_walked_with_the_same_list() {
        let logged = body_for_log(
            br#"{"lines":[{"quantity":2,"name":"secret"}],"card_token":"tok"}"#,
            None,
            PRODUCT,
        );
        assert_eq!(
            parsed(&logged),
            json!({"lines": [{"quantity": 2, "[REDACTED]": 1}], "[REDACTED]": 1})
        );
    }

    #[test]
    fn an_allowed_list_of_values_is_logged() {
        let logged = body_for_log(br#"{"lines":["a","b"]}"#, None, PRODUCT);
        assert_eq!(logged, r#"{"lines":["a","b"]}"#);
    }

    #[test]
    fn a_field_not_allowed_is_dropped_even_when_it_holds_allowed_ones() {
        let logged = body_for_log(br#"{"nested":{"sku":"SKU-1"}}"#, None, PRODUCT);
        assert_eq!(logged, r#"{"[REDACTED]":1}"#);
    }

    #[test]
    fn numbers_and_ids_are_logged_only_in_their_shape() {
        let id = "0b5e1f4c-3c4a-4f6e-9d0a-2b7c1e8f9a10";
        let logged = body_for_log(
            format!(r#"{{"lines":[{{"quantity":"hunter2","product_id":"{id}"}},{{"quantity":3,"product_id":"hunter2"}}]}}"#).as_bytes(),
            None,
            PRODUCT,
        );
        assert_eq!(
            parsed(&logged),
            json!({"lines": [
                {"quantity": "[REDACTED]", "product_id": id},
                {"quantity": 3, "product_id": "[REDACTED]"}
            ]})
        );
    }

    #[test]
    fn emails_are_logged_as_their_hash() {
        let logged = body_for_log(br#"{"email":" Ada@Example.com"}"#, None, PRODUCT);
        assert_eq!(
            logged,
            format!(r#"{{"email":"{}"}}"#, email_hash("ada@example.com"))
        );
        assert!(!logged.contains("example"));
    }

    #[test]
    fn the_email_hash_is_stable_case_blind_and_not_the_address() {
        assert_eq!(
            email_hash("Ada@Example.com "),
            email_hash("ada@example.com")
        );
        assert_ne!(email_hash("ada@example.com"), email_hash("bob@example.com"));
        assert_eq!(email_hash("ada@example.com").len(), 32);
    }

    #[test]
    fn bare_values_are_redacted() {
        assert_eq!(
            body_for_log(br#""hunter2""#, None, PRODUCT),
            format!("\"{REDACTED_KEY}\"")
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_only_its_length_and_content_type() {
        let body = br#"{"email":"a@b.c","password":"hunter2",}"#;
        assert_eq!(
            body_for_log(body, Some("application/json"), PRODUCT),
            format!("<{} bytes of application/json>", body.len())
        );
        assert_eq!(
            body_for_log(&[0xff, 0xfe, 0x00], None, PRODUCT),
            "<3 bytes of unknown content type>"
        );
    }

    #[test]
    fn long_bodies_are_capped_and_say_how_long_they_were() {
        let body = format!(r#"{{"sku":"{}"}}"#, "é".repeat(3000));
        let logged = body_for_log(body.as_bytes(), None, PRODUCT);
        assert!(logged.len() < MAX_LOGGED_BYTES + 40);
        assert!(logged.ends_with(&format!("[{} bytes in all]", body.len())));
    }

    #[test]
    fn a_problem_shows_its_kind_and_fields_but_not_its_detail() {
        let logged = body_for_log(
            br#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"invalid type: string \"hunter2\"","errors":[{"field":"quantity","message":"hunter2"}]}"#,
            None,
            PROBLEM_FIELDS,
        );
        assert!(!logged.contains("hunter2"));
        assert!(logged.contains(r#""field":"quantity""#));
        assert!(logged.contains(r#""status":400"#));
    }
}
