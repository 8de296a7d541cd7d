//! What one attempt ended with, and whether that is worth another attempt.
//!
//! Only what can change on a resend is retried: a lost connection, an attempt
//! that timed out, or a status the caller listed in `retryOn`. Everything else
//! (400, 401, 403, 404, 422, …) is the server's answer and goes back to the
//! caller as fetch would return it.

#[allow(unused_imports)]
use crate::prelude::*;
/// The HTTP statuses retried by default: 408, 409, 425, 429 and the 5xx that
/// mean "try again" (a 501 or 505 will not change on a resend).
pub const DEFAULT_RETRY_ON: [u16; 8] = [408, 409, 425, 429, 500, 502, 503, 504];

/// A set of statuses in 100..=599, as a bitset: membership is one shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusSet([u64; 10]);

impl StatusSet {
    pub const fn empty() -> Self {
        StatusSet([0; 10])
    }

    pub fn of(statuses: &[u16]) -> Self {
        let mut set = Self::empty();
        statuses.iter().for_each(|&s| set.insert(s));
        set
    }

    /// Statuses outside 0..640 are ignored; options parsing rejects them first.
    pub fn insert(&mut self, status: u16) {
        if let Some(word) = self.0.get_mut(status as usize / 64) {
            *word |= 1 << (status % 64);
        }
    }

    pub fn contains(&self, status: u16) -> bool {
        self.0.get(status as usize / 64).is_some_and(|w| w & (1 << (status % 64)) != 0)
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        Self::of(&DEFAULT_RETRY_ON)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered. `retry_after_ms` is its parsed `Retry-After`.
    Response { status: u16, retry_after_ms: Option<u64> },
    /// No answer: connection refused, reset or dropped, DNS, CORS.
    Network,
    /// No answer within the attempt's timeout.
    Timeout,
}

crate::core::contract::names! {
    /// Why an attempt is retried ('retry' events).
    RetryReason {
        Network = "network",
        Timeout = "timeout",
        Status = "status",
    }
}

impl Outcome {
    /// `None` when the outcome is definitive: the call settles with it.
    pub fn retry_reason(&self, retry_on: &StatusSet) -> Option<RetryReason> {
        match *self {
            Outcome::Response { status, .. } if retry_on.contains(status) => Some(RetryReason::Status),
            Outcome::Response { .. } => None,
            Outcome::Network => Some(RetryReason::Network),
            Outcome::Timeout => Some(RetryReason::Timeout),
        }
    }

    pub fn status(&self) -> Option<u16> {
        match *self {
            Outcome::Response { status, .. } => Some(status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set() {
        let set = StatusSet::default();
        for s in DEFAULT_RETRY_ON {
            assert!(set.contains(s));
        }
        for s in [200, 201, 301, 400, 401, 403, 404, 422, 501, 505, 0, 639, 640, 65535] {
            assert!(!set.contains(s), "{s}");
        }
    }

    #[test]
    fn classification() {
        let set = StatusSet::default();
        let resp = |status| Outcome::Response { status, retry_after_ms: None };
        assert_eq!(resp(503).retry_reason(&set), Some(RetryReason::Status));
        assert_eq!(resp(400).retry_reason(&set), None);
        assert_eq!(resp(200).retry_reason(&set), None);
        assert_eq!(Outcome::Network.retry_reason(&set), Some(RetryReason::Network));
        assert_eq!(Outcome::Timeout.retry_reason(&set), Some(RetryReason::Timeout));
        assert_eq!(resp(503).retry_reason(&StatusSet::empty()), None);
    }

    #[test]
    fn out_of_range_statuses_do_not_panic() {
        let mut set = StatusSet::empty();
        set.insert(u16::MAX);
        assert!(!set.contains(u16::MAX));
    }
}
