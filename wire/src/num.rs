//! Whole numbers without std (where `f64::fract` lives; the browser build has
//! no std).

/// Whether `n` is a whole number.
#[inline]
pub fn is_whole(n: f64) -> bool {
    // Beyond 2^53 every finite f64 is whole; below it the cast is exact.
    n.is_finite() && (n.abs() >= 9_007_199_254_740_992.0 || n == (n as i64) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers() {
        for (n, whole) in [(0.0, true), (-0.0, true), (3.0, true), (-7.0, true), (2.5, false), (-0.5, false), (1e300, true)] {
            assert_eq!(is_whole(n), whole, "{n}");
        }
        assert!(!is_whole(f64::NAN) && !is_whole(f64::INFINITY) && !is_whole(f64::NEG_INFINITY));
    }
}
