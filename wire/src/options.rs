//! The checks both halves' option parsers share. A mistake names the option
//! (its path, e.g. `breaker.cooldownMs`) and what it accepts, in words.

use super::num::is_whole;
use super::value::Value;
use alloc::string::String;

/// `expected` says what is accepted: words (the server's), or a code the
/// host puts in words (the client's, whose .wasm carries no messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError<E = &'static str> {
    /// The option's path, as the caller wrote it.
    pub option: String,
    /// What is accepted.
    pub expected: E,
}

/// The longest delay a JS timer takes (2^31 - 1 ms): a longer one overflows.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;
/// The largest integer a JS number holds exactly.
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

#[inline]
pub fn error<E>(option: &str, expected: E) -> OptionError<E> {
    OptionError { option: option.into(), expected }
}

/// A whole number from `min` to `max`.
#[inline]
pub fn integer<E>(option: &str, v: &Value, min: u64, max: u64, expected: E) -> Result<u64, OptionError<E>> {
    match *v {
        Value::Number(n) if is_whole(n) && n >= min as f64 && n <= max as f64 => Ok(n as u64),
        _ => Err(error(option, expected)),
    }
}

/// A function (its body stays in JS; only its presence is checked here).
#[inline]
pub fn function(option: &str, v: &Value) -> Result<(), OptionError> {
    match v {
        Value::Function => Ok(()),
        _ => Err(error(option, "a function")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_range() {
        let check = |n: f64| integer("n", &Value::Number(n), 1, 10, "1 to 10");
        assert_eq!(check(1.0), Ok(1));
        assert_eq!(check(10.0), Ok(10));
        for bad in [0.0, 11.0, 1.5, f64::NAN, f64::INFINITY, -1.0] {
            assert_eq!(check(bad), Err(error("n", "1 to 10")), "{bad}");
        }
        assert!(integer("n", &Value::Str("1".into()), 0, 9, "x").is_err());
        assert_eq!(integer("n", &Value::Number(9_007_199_254_740_991.0), 0, MAX_SAFE_INTEGER, "x"), Ok(MAX_SAFE_INTEGER));
    }

    #[test]
    fn functions() {
        assert_eq!(function("f", &Value::Function), Ok(()));
        assert_eq!(function("f", &Value::Null).unwrap_err().option, "f");
    }
}
