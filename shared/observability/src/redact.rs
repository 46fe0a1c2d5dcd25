//! Makes request and response bodies safe and small enough to log.

use serde_json::Value;

/// Bodies are cut to this many bytes in logs.
pub const MAX_LOGGED_BYTES: usize = 2048;

const REDACTED: &str = "[REDACTED]";

/// Keys whose values never reach a log, matched case-insensitively as substrings.
const SECRET_KEY_PARTS: &[&str] = &["password", "token", "secret", "authorization", "card"];
/// Keys that are secrets only when they are the whole name (e.g. a confirmation `code`,
/// but not `postal_code`).
const SECRET_KEYS: &[&str] = &["code", "otp"];

/// A loggable rendering of `body`: JSON with secret values replaced, capped in size;
/// other text capped; binary content summarised by its length.
pub fn body_for_log(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(mut json) => {
            redact(&mut json);
            json.to_string()
        }
        Err(_) => match std::str::from_utf8(body) {
            Ok(text) => text.to_owned(),
            Err(_) => return format!("<{} bytes of binary data>", body.len()),
        },
    };
    truncate(text)
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEY_PARTS.iter().any(|part| key.contains(part)) || SECRET_KEYS.contains(&key.as_str())
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if is_secret_key(key) {
                    *value = Value::String(REDACTED.to_owned());
                } else {
                    redact(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
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
    use super::*;

    #[test]
    fn secret_values_are_replaced_at_any_depth() {
        let body = br#"{"email":"a@b.c","password":"hunter2","nested":[{"refresh_token":"t","name":"x"}],"payment":{"card_token":"tok_visa"}}"#;
        let logged = body_for_log(body);
        assert!(!logged.contains("hunter2"));
        assert!(!logged.contains("tok_visa"));
        assert!(!logged.contains("\"t\""));
        assert!(logged.contains("a@b.c"));
        assert!(logged.contains("\"name\":\"x\""));
    }

    #[test]
    fn a_confirmation_code_is_secret_but_a_postal_code_is_not() {
        let logged = body_for_log(br#"{"code":"123456","postal_code":"10115"}"#);
        assert!(!logged.contains("123456"));
        assert!(logged.contains("10115"));
    }

    #[test]
    fn long_bodies_are_capped_and_say_how_long_they_were() {
        let body = format!("\"{}\"", "é".repeat(3000));
        let logged = body_for_log(body.as_bytes());
        assert!(logged.len() < MAX_LOGGED_BYTES + 40);
        assert!(logged.ends_with(&format!("[{} bytes in all]", body.len())));
    }

    #[test]
    fn binary_bodies_are_summarised() {
        assert_eq!(
            body_for_log(&[0xff, 0xfe, 0x00]),
            "<3 bytes of binary data>"
        );
    }
}
