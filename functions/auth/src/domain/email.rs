/// An email address as users sign in with it: trimmed and lower-cased, so one mailbox is one
/// account whatever the case it is typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be an email address like name@example.com")]
pub struct InvalidEmail;

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.split_once('@').ok_or(InvalidEmail)?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && email.len() <= Self::MAX_LEN
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Self(email))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stable pseudonym for logs and counters: the address itself is personal data and
    /// never needs to be logged to correlate attempts on one account.
    pub fn hashed(&self) -> String {
        shop_observability::redact::email_hash(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a da@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(Email::parse(raw), Err(InvalidEmail), "{raw}");
        }
    }

    #[test]
    fn the_hash_is_stable_case_blind_and_not_the_address() {
        let a = Email::parse("Ada@example.com").unwrap().hashed();
        assert_eq!(a, Email::parse("ada@example.com").unwrap().hashed());
        assert_eq!(a.len(), 32);
        assert!(!a.contains("ada"));
    }
}
