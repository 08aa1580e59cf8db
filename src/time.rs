//! Time as the core sees it: [`UnixSeconds`], a moment in whole seconds since the Unix epoch (a
//! JWT NumericDate, RFC 7519 §2), and plain `u64` seconds for durations (fields named `*_s`).
//! Nothing in the core counts milliseconds: the host's clock is converted once, at the port.

use serde::{Deserialize, Serialize};

/// A moment, in whole seconds since the Unix epoch. Arithmetic saturates: a huge `exp` or TTL
/// pins at the end of time instead of wrapping into the past, and a moment before another is
/// zero seconds after it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixSeconds(u64);

impl UnixSeconds {
    /// The epoch itself (also: "never", for a moment that has not happened).
    pub const EPOCH: UnixSeconds = UnixSeconds(0);
    /// The end of time: later than every real moment.
    pub const NEVER_ENDS: UnixSeconds = UnixSeconds(u64::MAX);

    pub const fn new(seconds: u64) -> Self {
        UnixSeconds(seconds)
    }

    /// A host clock reading in milliseconds, rounded down to the second.
    pub const fn from_millis(ms: u64) -> Self {
        UnixSeconds(ms / 1000)
    }

    /// The number of seconds since the epoch (for JSON claims and logs).
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `seconds` later, saturating.
    #[must_use]
    pub const fn plus(self, seconds: u64) -> Self {
        UnixSeconds(self.0.saturating_add(seconds))
    }

    /// `seconds` earlier, saturating at the epoch.
    #[must_use]
    pub const fn minus(self, seconds: u64) -> Self {
        UnixSeconds(self.0.saturating_sub(seconds))
    }

    /// Seconds from `earlier` to `self`; zero if `earlier` is not earlier.
    pub const fn since(self, earlier: UnixSeconds) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::fmt::Display for UnixSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::UnixSeconds;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let t = UnixSeconds::new(1_700_000_000);
        assert_eq!(t.plus(60).get(), 1_700_000_060);
        assert_eq!(t.plus(u64::MAX), UnixSeconds::NEVER_ENDS);
        assert_eq!(t.minus(u64::MAX), UnixSeconds::EPOCH);
        assert_eq!(t.plus(30).since(t), 30);
        assert_eq!(t.since(t.plus(30)), 0);
        assert!(t < t.plus(1) && UnixSeconds::NEVER_ENDS > t);
        assert_eq!(UnixSeconds::from_millis(1_700_000_000_999), t);
    }

    #[test]
    fn serializes_as_a_plain_number() {
        let t = UnixSeconds::new(42);
        assert_eq!(serde_json::to_string(&t).unwrap(), "42");
        assert_eq!(serde_json::from_str::<UnixSeconds>("42").unwrap(), t);
    }
}
