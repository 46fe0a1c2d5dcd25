//! Login throttling in fixed windows: at most `max_failures` failed logins per account and
//! `max_failures_per_source` per source address in one window. A fixed window is one counter per key and window, which
//! the store can increment atomically; its cost is that a burst at a window's edge may get up
//! to twice the limit, which is acceptable for slowing password guessing.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub max_failures: u32,
    /// Higher than the per-account limit: many people can share one address (an office, a
    /// mobile carrier's NAT), but one address trying many accounts is an attack.
    pub max_failures_per_source: u32,
    pub window_secs: u64,
}

/// One window of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub index: u64,
    pub ends_at: u64,
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

    /// Seconds a client must wait, when the failures counted in the current window for its
    /// account or its source reached their limit.
    pub fn retry_after(
        &self,
        account_failures: u32,
        source_failures: u32,
        now: u64,
    ) -> Option<u64> {
        let locked = account_failures >= self.max_failures
            || source_failures >= self.max_failures_per_source;
        locked.then(|| self.window(now).ends_at.saturating_sub(now).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCKOUT: Lockout = Lockout {
        max_failures: 3,
        max_failures_per_source: 10,
        window_secs: 60,
    };

    #[test]
    fn times_in_one_window_share_it() {
        assert_eq!(LOCKOUT.window(120), LOCKOUT.window(179));
        assert_ne!(LOCKOUT.window(179), LOCKOUT.window(180));
        assert_eq!(LOCKOUT.window(130).ends_at, 180);
    }

    #[test]
    fn below_both_limits_there_is_no_wait() {
        assert_eq!(LOCKOUT.retry_after(2, 9, 130), None);
    }

    #[test]
    fn at_the_account_limit_the_wait_lasts_until_the_window_ends() {
        assert_eq!(LOCKOUT.retry_after(3, 0, 130), Some(50));
        assert_eq!(LOCKOUT.retry_after(9, 0, 179), Some(1));
    }

    #[test]
    fn a_source_over_its_limit_waits_whatever_the_account() {
        assert_eq!(LOCKOUT.retry_after(0, 10, 130), Some(50));
    }
}
