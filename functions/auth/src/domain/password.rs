/// The user pool's password policy (the template gives the pool and this function the same
/// values), checked before calling Cognito so a weak password gets a 400 that names the rule.
// Mirrors Cognito's PasswordPolicyType field for field.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

/// Cognito's longest password.
const MAX_LENGTH: usize = 256;
/// The characters Cognito counts as symbols.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

impl PasswordPolicy {
    /// Every rule `password` breaks, each as a sentence a user can act on.
    pub fn violations(&self, password: &str) -> Vec<String> {
        let mut broken = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            broken.push(format!(
                "must be at least {} characters long",
                self.min_length
            ));
        }
        if length > MAX_LENGTH {
            broken.push(format!("must be at most {MAX_LENGTH} characters long"));
        }
        let rules = [
            (
                self.require_lowercase,
                "must contain a lowercase letter",
                password.chars().any(char::is_lowercase),
            ),
            (
                self.require_uppercase,
                "must contain an uppercase letter",
                password.chars().any(char::is_uppercase),
            ),
            (
                self.require_numbers,
                "must contain a number",
                password.chars().any(|c| c.is_ascii_digit()),
            ),
            (
                self.require_symbols,
                "must contain a symbol",
                password.chars().any(|c| SYMBOLS.contains(c)),
            ),
        ];
        for (required, rule, satisfied) in rules {
            if required && !satisfied {
                broken.push(rule.to_owned());
            }
        }
        if password.trim() != password {
            broken.push("must not start or end with a space".to_owned());
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 12,
            require_lowercase: true,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: false,
        }
    }

    #[test]
    fn a_password_meeting_every_rule_passes() {
        assert!(policy().violations("Correct-Horse-7").is_empty());
    }

    #[test]
    fn each_broken_rule_is_named() {
        assert_eq!(
            policy().violations("short"),
            [
                "must be at least 12 characters long",
                "must contain an uppercase letter",
                "must contain a number"
            ]
        );
        assert_eq!(
            policy().violations("ALLUPPERCASE123"),
            ["must contain a lowercase letter"]
        );
    }

    #[test]
    fn symbols_are_checked_only_when_required() {
        let strict = PasswordPolicy {
            require_symbols: true,
            ..policy()
        };
        assert_eq!(
            strict.violations("NoSymbolsHere123"),
            ["must contain a symbol"]
        );
        assert!(strict.violations("Symbol!Here123").is_empty());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(policy().violations("Äpfelbäume12ü").is_empty());
    }

    #[test]
    fn surrounding_spaces_are_refused() {
        assert_eq!(
            policy().violations(" Correct-Horse-7"),
            ["must not start or end with a space"]
        );
    }
}
