//! Full-jitter exponential backoff.
//!
//! The wait before retry `n` (0 for the first retry) is uniform in
//! `[0, min(cap, base * 2^n)]`. Brooker's "Exponential Backoff and Jitter"
//! shows why full jitter: additive jitter keeps clients in lockstep waves,
//! while spreading each wait over the whole window lets a recovering server
//! see a smooth trickle instead of synchronised spikes.

#[allow(unused_imports)]
use crate::prelude::*;
use super::rng::SplitMix64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: u64,
    pub cap_ms: u64,
}

impl Backoff {
    /// The largest wait allowed before retry `retry` (0-based).
    pub fn ceiling_ms(&self, retry: u32) -> u64 {
        let grown = if retry >= 64 {
            u64::MAX
        } else {
            self.base_ms.saturating_mul(1u64 << retry)
        };
        grown.min(self.cap_ms)
    }

    pub fn delay_ms(&self, retry: u32, rng: &mut SplitMix64) -> u64 {
        rng.up_to(self.ceiling_ms(retry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Backoff = Backoff { base_ms: 100, cap_ms: 20_000 };

    #[test]
    fn ceilings_double_then_cap() {
        let c: Vec<u64> = (0..10).map(|n| DEFAULT.ceiling_ms(n)).collect();
        assert_eq!(c, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 20000, 20000]);
        assert_eq!(DEFAULT.ceiling_ms(200), 20_000);
    }

    #[test]
    fn exact_sequence_for_a_fixed_seed() {
        let mut rng = SplitMix64::new(1);
        let waits: Vec<u64> = (0..6).map(|n| DEFAULT.delay_ms(n, &mut rng)).collect();
        let mut again = SplitMix64::new(1);
        let replay: Vec<u64> = (0..6).map(|n| DEFAULT.delay_ms(n, &mut again)).collect();
        assert_eq!(waits, replay);
        // Checked against an independent Python SplitMix64.
        assert_eq!(waits, [57, 149, 389, 355, 711, 2442]);
    }

    #[test]
    fn every_wait_is_within_its_window() {
        for seed in 0..200 {
            let mut rng = SplitMix64::new(seed);
            for n in 0..40 {
                let b = Backoff { base_ms: seed % 7 * 50, cap_ms: 5_000 };
                assert!(b.delay_ms(n, &mut rng) <= b.ceiling_ms(n));
            }
        }
    }

    #[test]
    fn zero_base_means_no_wait() {
        let mut rng = SplitMix64::new(3);
        let b = Backoff { base_ms: 0, cap_ms: 20_000 };
        assert!((0..10).all(|n| b.delay_ms(n, &mut rng) == 0));
    }
}
