//! `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
//!
//! A server that names a wait knows its own recovery better than our backoff,
//! so its wait is honoured exactly: no jitter, no cap. Values we cannot read
//! are ignored (the normal backoff applies), never an error.

#[allow(unused_imports)]
use crate::prelude::*;
use super::clock::Wall;
use super::http_date::parse_http_date;

/// The wait in milliseconds that `value` asks for, measured from `now`. A
/// date in the past means "now" (0).
pub fn parse_retry_after(value: &str, now: Wall) -> Option<u64> {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurd values rather than fail: a huge wait is still a wait.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(seconds.saturating_mul(1000));
    }
    let wait = parse_http_date(value)? - now.0;
    Some(if wait.is_finite() { super::num::ceil_ms(wait) } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    // 1994-11-06T08:49:37Z, the RFC's example date.
    const RFC_EXAMPLE_MS: f64 = 784_111_777_000.0;

    #[test]
    fn seconds() {
        assert_eq!(parse_retry_after("120", Wall(0.0)), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", Wall(0.0)), Some(0));
        assert_eq!(parse_retry_after("99999999999999999999999", Wall(0.0)), Some(u64::MAX));
    }

    #[test]
    fn all_three_date_formats() {
        let now = RFC_EXAMPLE_MS - 5_000.0;
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(v, Wall(now)), Some(5_000), "{v}");
        }
    }

    #[test]
    fn past_date_means_now() {
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", Wall(RFC_EXAMPLE_MS + 1.0)), Some(0));
    }

    #[test]
    fn garbage_is_ignored() {
        for v in ["", "soon", "-1", "1.5", "12s", "Sun, 32 Nov 1994 08:49:37 GMT", "\u{1F600}"] {
            assert_eq!(parse_retry_after(v, Wall(0.0)), None, "{v:?}");
        }
    }

    #[test]
    fn non_finite_now_does_not_panic() {
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", Wall(f64::NAN)), Some(0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", Wall(f64::NEG_INFINITY)), Some(0));
    }
}
