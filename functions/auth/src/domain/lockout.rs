//! Login throttling in fixed windows, decided before Cognito is asked.
//!
//! Every attempt takes one count on three counters of the current window, each with its own
//! limit, and goes ahead only if all three had room:
//!
//! - the account *from* the source: the guesses one client gets at one account, small
//!   (`max_failures`);
//! - the account from anywhere: much higher (`max_failures_per_account`), so a stranger's
//!   guesses cannot lock a customer out from every address, while a guess spread over many
//!   addresses still meets a limit;
//! - the source at any account (`max_failures_per_source`): one address trying many accounts.
//!
//! A count is taken before the password is checked, so parallel guesses cannot all pass a
//! check made before any of them failed; a failed guess keeps its counts (they are the failure
//! counts), anything else gives them back. A fixed window is one counter per key and window,
//! which the store can change atomically; its cost is that a burst at a window's edge may get
//! up to twice a limit, acceptable for slowing password guessing.

/// The limits, per window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Failures of one account from one source.
    pub max_failures: u32,
    /// Failures of one account from all sources together.
    pub max_failures_per_account: u32,
    /// Higher than the per-account-and-source limit: many people can share one address (an
    /// office, a mobile carrier's NAT), but one address trying many accounts is an attack.
    pub max_failures_per_source: u32,
    pub window_secs: u64,
}

/// One window of every counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub index: u64,
    pub ends_at: u64,
}

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    AccountFromSource,
    Account,
    Source,
}

impl Scope {
    /// The name in audit lines and metric dimensions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountFromSource => "account_from_source",
            Self::Account => "account",
            Self::Source => "source",
        }
    }
}

/// One counter of one window: its store key and how many counts it holds at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub scope: Scope,
    pub key: String,
    pub limit: u32,
}

impl Lockout {
    /// The window `now` (epoch seconds) falls in.
    pub fn window(&self, now: u64) -> Window {
        let window_secs = self.window_secs.max(1);
        let index = now / window_secs;
        Window {
            index,
            ends_at: (index + 1) * window_secs,
        }
    }

    /// The counters an attempt at `account` (its email hash) from `source` takes a count on,
    /// in the order it takes them: the narrowest first, so an attempt refused for its own
    /// guesses at the account never touches the counters other clients share.
    pub fn counters(&self, account: &str, source: &str, window: Window) -> [Counter; 3] {
        let index = window.index;
        [
            Counter {
                scope: Scope::AccountFromSource,
                key: format!("pair#{account}#{source}#{index}"),
                limit: self.max_failures,
            },
            Counter {
                scope: Scope::Account,
                key: format!("account#{account}#{index}"),
                limit: self.max_failures_per_account,
            },
            Counter {
                scope: Scope::Source,
                key: format!("source#{source}#{index}"),
                limit: self.max_failures_per_source,
            },
        ]
    }

    /// When a window's counters may be deleted (DynamoDB's TTL): a whole window after it ends,
    /// so no attempt still running can find its counter gone.
    pub fn expires_at(&self, window: Window) -> u64 {
        window.ends_at + self.window_secs.max(1)
    }

    /// Seconds a refused client must wait: until the window ends and its counters start over.
    pub fn retry_after(&self, now: u64) -> u64 {
        self.window(now).ends_at.saturating_sub(now).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKOUT: Lockout = Lockout {
        max_failures: 3,
        max_failures_per_account: 30,
        max_failures_per_source: 50,
        window_secs: 60,
    };

    #[test]
    fn times_in_one_window_share_it() {
        assert_eq!(LOCKOUT.window(120), LOCKOUT.window(179));
        assert_ne!(LOCKOUT.window(179), LOCKOUT.window(180));
        assert_eq!(LOCKOUT.window(130).ends_at, 180);
    }

    #[test]
    fn an_attempt_counts_against_its_account_from_its_source_then_its_account_then_its_source() {
        let counters = LOCKOUT.counters("hash", "198.51.100.7", LOCKOUT.window(130));
        let scopes_and_limits: Vec<(Scope, u32)> =
            counters.iter().map(|c| (c.scope, c.limit)).collect();
        assert_eq!(
            scopes_and_limits,
            [
                (Scope::AccountFromSource, 3),
                (Scope::Account, 30),
                (Scope::Source, 50)
            ]
        );
    }

    #[test]
    fn each_counter_has_a_key_of_its_own_per_window() {
        let window = LOCKOUT.window(130);
        let keys = LOCKOUT
            .counters("hash", "198.51.100.7", window)
            .map(|c| c.key);
        assert_eq!(
            keys,
            [
                "pair#hash#198.51.100.7#2",
                "account#hash#2",
                "source#198.51.100.7#2"
            ]
        );
        let next = LOCKOUT
            .counters("hash", "198.51.100.7", LOCKOUT.window(180))
            .map(|c| c.key);
        assert!(keys.iter().zip(&next).all(|(this, next)| this != next));
    }

    #[test]
    fn another_source_shares_only_the_account_counter() {
        let window = LOCKOUT.window(130);
        let mine = LOCKOUT.counters("hash", "198.51.100.7", window);
        let stranger = LOCKOUT.counters("hash", "203.0.113.9", window);
        let shared: Vec<Scope> = mine
            .iter()
            .zip(&stranger)
            .filter(|(a, b)| a.key == b.key)
            .map(|(a, _)| a.scope)
            .collect();
        assert_eq!(shared, [Scope::Account]);
    }

    #[test]
    fn counters_outlive_their_window_by_a_whole_window() {
        assert_eq!(LOCKOUT.expires_at(LOCKOUT.window(130)), 240);
    }

    #[test]
    fn a_refused_client_waits_until_the_window_ends_and_at_least_a_second() {
        assert_eq!(LOCKOUT.retry_after(130), 50);
        assert_eq!(LOCKOUT.retry_after(179), 1);
        assert_eq!(LOCKOUT.retry_after(120), 60);
    }
}
