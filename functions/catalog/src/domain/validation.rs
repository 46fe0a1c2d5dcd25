//! Checking what a client sent before it becomes a product. Every violation is collected,
//! so a client learns all that is wrong with a request at once.

use super::ProductDetails;

pub const SKU_LEN: std::ops::RangeInclusive<usize> = 3..=32;
pub const NAME_MAX_CHARS: usize = 120;
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// One million in the currency's main unit: a typo guard, not a business rule.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

/// One broken rule, naming the field as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: &'static str,
    pub message: String,
}

impl Violation {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A product as a client described it, not yet checked. Absent fields are `None`, so a
/// missing field is reported like any other violation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductInput {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
}

impl ProductInput {
    /// Checks a new product: its SKU and its details.
    pub fn validate_new(self) -> Result<(String, ProductDetails), Vec<Violation>> {
        let mut violations = Vec::new();
        let sku = required(&mut violations, "sku", self.sku.as_deref(), check_sku);
        let details = self.details(&mut violations);
        match (sku, details) {
            (Some(sku), Some(details)) if violations.is_empty() => Ok((sku, details)),
            _ => Err(violations),
        }
    }

    /// Checks the details of a revision (the SKU never changes, so it is not read).
    pub fn validate_details(self) -> Result<ProductDetails, Vec<Violation>> {
        let mut violations = Vec::new();
        match self.details(&mut violations) {
            Some(details) if violations.is_empty() => Ok(details),
            _ => Err(violations),
        }
    }

    fn details(&self, violations: &mut Vec<Violation>) -> Option<ProductDetails> {
        let name = required(violations, "name", self.name.as_deref(), check_name);
        let description = check_description(self.description.as_deref().unwrap_or_default())
            .map_err(|message| violations.push(Violation::new("description", message)))
            .ok();
        let price_cents = match self.price_cents {
            None => {
                violations.push(Violation::new("price_cents", "is required"));
                None
            }
            Some(cents) if !(1..=MAX_PRICE_CENTS).contains(&cents) => {
                violations.push(Violation::new(
                    "price_cents",
                    format!("must be an integer from 1 to {MAX_PRICE_CENTS}"),
                ));
                None
            }
            Some(cents) => Some(cents),
        };
        let currency = required(
            violations,
            "currency",
            self.currency.as_deref(),
            check_currency,
        );
        Some(ProductDetails {
            name: name?,
            description: description?,
            price_cents: price_cents?,
            currency: currency?,
        })
    }
}

fn required(
    violations: &mut Vec<Violation>,
    field: &'static str,
    value: Option<&str>,
    check: fn(&str) -> Result<String, String>,
) -> Option<String> {
    let Some(value) = value else {
        violations.push(Violation::new(field, "is required"));
        return None;
    };
    check(value)
        .map_err(|message| violations.push(Violation::new(field, message)))
        .ok()
}

fn check_sku(sku: &str) -> Result<String, String> {
    let well_formed = SKU_LEN.contains(&sku.len())
        && sku
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !sku.starts_with('-')
        && !sku.ends_with('-');
    if well_formed {
        Ok(sku.to_owned())
    } else {
        Err(format!(
            "must be {} to {} characters of A-Z, 0-9 and '-', not starting or ending with '-'",
            SKU_LEN.start(),
            SKU_LEN.end()
        ))
    }
}

fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be blank".into());
    }
    check_text(name, NAME_MAX_CHARS)
}

fn check_description(description: &str) -> Result<String, String> {
    check_text(description.trim(), DESCRIPTION_MAX_CHARS)
}

fn check_text(text: &str, max_chars: usize) -> Result<String, String> {
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// ISO 4217 alphabetic codes: three capital letters.
fn check_currency(currency: &str) -> Result<String, String> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(currency.to_owned())
    } else {
        Err("must be an ISO 4217 code of three capital letters, e.g. EUR".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ProductInput {
        ProductInput {
            sku: Some("KET-100".into()),
            name: Some("  Kettle  ".into()),
            description: Some("Boils water.".into()),
            price_cents: Some(2999),
            currency: Some("EUR".into()),
        }
    }

    fn fields(violations: &[Violation]) -> Vec<&str> {
        violations.iter().map(|v| v.field).collect()
    }

    #[test]
    fn a_valid_product_passes_with_its_name_trimmed() {
        let (sku, details) = valid().validate_new().unwrap();
        assert_eq!(sku, "KET-100");
        assert_eq!(details.name, "Kettle");
        assert_eq!(details.price_cents, 2999);
    }

    #[test]
    fn the_description_is_optional() {
        let input = ProductInput {
            description: None,
            ..valid()
        };
        assert_eq!(input.validate_new().unwrap().1.description, "");
    }

    #[test]
    fn every_missing_field_is_reported_at_once() {
        let violations = ProductInput::default().validate_new().unwrap_err();
        assert_eq!(
            fields(&violations),
            ["sku", "name", "price_cents", "currency"]
        );
        assert!(violations.iter().all(|v| v.message == "is required"));
    }

    #[test]
    fn malformed_skus_are_refused() {
        for sku in [
            "ab",
            "KET 1",
            "ket-1",
            "-KET",
            "KET-",
            &"A".repeat(33),
            "KÉT-1",
        ] {
            let input = ProductInput {
                sku: Some(sku.into()),
                ..valid()
            };
            assert_eq!(fields(&input.validate_new().unwrap_err()), ["sku"], "{sku}");
        }
    }

    #[test]
    fn prices_must_be_positive_and_bounded() {
        for price in [0, -1, MAX_PRICE_CENTS + 1] {
            let input = ProductInput {
                price_cents: Some(price),
                ..valid()
            };
            assert_eq!(fields(&input.validate_new().unwrap_err()), ["price_cents"]);
        }
    }

    #[test]
    fn currencies_must_be_three_capital_letters() {
        for currency in ["eur", "EURO", "E1R", ""] {
            let input = ProductInput {
                currency: Some(currency.into()),
                ..valid()
            };
            assert_eq!(fields(&input.validate_new().unwrap_err()), ["currency"]);
        }
    }

    #[test]
    fn text_lengths_are_limited_in_characters() {
        let input = ProductInput {
            name: Some("é".repeat(NAME_MAX_CHARS)),
            description: Some("é".repeat(DESCRIPTION_MAX_CHARS)),
            ..valid()
        };
        assert!(input.validate_new().is_ok());
        let input = ProductInput {
            name: Some("a".repeat(NAME_MAX_CHARS + 1)),
            description: Some("a".repeat(DESCRIPTION_MAX_CHARS + 1)),
            ..valid()
        };
        assert_eq!(
            fields(&input.validate_new().unwrap_err()),
            ["name", "description"]
        );
    }

    #[test]
    fn blank_names_and_control_characters_are_refused() {
        let input = ProductInput {
            name: Some("   ".into()),
            description: Some("bell\u{7}".into()),
            ..valid()
        };
        assert_eq!(
            fields(&input.validate_new().unwrap_err()),
            ["name", "description"]
        );
    }

    #[test]
    fn a_revision_ignores_the_sku() {
        let input = ProductInput {
            sku: None,
            ..valid()
        };
        assert_eq!(input.validate_details().unwrap().name, "Kettle");
    }
}
