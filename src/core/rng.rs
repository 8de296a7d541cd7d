//! The injected source of randomness for jitter.
//!
//! SplitMix64 (Steele, Lea, Flood 2014): one u64 of state, passes BigCrush, and
//! is a dozen lines, so it costs the .wasm nothing next to a `rand` dependency.
//! Jitter needs spread, not secrecy; keys never come from here (they come from
//! the platform CSPRNG in the shell).

#[allow(unused_imports)]
use crate::prelude::*;
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=max`, by widening multiply (no modulo bias worth the name,
    /// no floats).
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        ((self.next_u64() as u128 * (max as u128 + 1)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn known_first_value_for_seed_zero() {
        // Reference value of SplitMix64 from seed 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn up_to_stays_in_range_and_reaches_both_ends() {
        let mut rng = SplitMix64::new(7);
        let (mut saw_zero, mut saw_max) = (false, false);
        for _ in 0..10_000 {
            let v = rng.up_to(3);
            assert!(v <= 3);
            saw_zero |= v == 0;
            saw_max |= v == 3;
        }
        assert!(saw_zero && saw_max);
        assert_eq!(rng.up_to(0), 0);
    }
}
