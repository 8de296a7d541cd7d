//! The two float operations the core needs, without std (which is where
//! `f64::ceil` and `f64::fract` live; the browser build has no std).

/// Whether `n` is a whole number (shared with the server half).
pub use durafetch_wire::num::is_whole;

/// The smallest whole number not below `x`, for `x` in 0..2^64 (a wait in
/// ms); 0 for anything below.
pub fn ceil_ms(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let whole = x as u64;
    if (whole as f64) < x {
        whole.saturating_add(1)
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_and_ceilings() {
        for (n, whole) in [(0.0, true), (-0.0, true), (3.0, true), (-7.0, true), (2.5, false), (-0.5, false), (1e300, true)] {
            assert_eq!(is_whole(n), whole, "{n}");
        }
        assert!(!is_whole(f64::NAN) && !is_whole(f64::INFINITY));
        assert_eq!([ceil_ms(0.0), ceil_ms(0.2), ceil_ms(1.0), ceil_ms(1.5), ceil_ms(-3.0), ceil_ms(f64::NAN)], [0, 1, 1, 2, 0, 0]);
        assert_eq!(ceil_ms(1e30), u64::MAX);
    }
}
