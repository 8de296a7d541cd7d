//! A retry budget: a token bucket per origin that every retry pays from.
//!
//! Why budgets and not only max attempts: `maxAttempts` bounds one call, not
//! a client. 200 calls made during an outage each spend their 5 attempts:
//! 800 retries sent to a server that is already down. A budget bounds the
//! retries of all calls to an origin together, the way AWS SDKs' standard
//! retry mode does (a per-client quota of 500 tokens; a retry costs 5, a
//! retry after a timeout or a network error 10; a retry that succeeds pays
//! its cost back, a first attempt that succeeds adds 1). Those are the
//! defaults here.
//!
//! A first attempt never pays and is never refused: the budget limits
//! retries, not traffic. One addition to AWS's model: the bucket also
//! refills with time (`refill_per_sec`, on the monotonic clock), so an
//! operation queued in the outbox while nothing succeeds is still resent
//! once the bucket can pay for it (AWS's quota refills only on success;
//! with nothing succeeding, a queued operation would wait forever).

#[allow(unused_imports)]
use crate::prelude::*;
use super::clock::Mono;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    pub capacity: u32,
    /// What a retry after an answer (a 503, a 429) costs.
    pub retry_cost: u32,
    /// What a retry after no answer (a timeout, a network error) costs.
    pub timeout_cost: u32,
    pub refill_per_sec: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig { capacity: 500, retry_cost: 5, timeout_cost: 10, refill_per_sec: 1 }
    }
}

impl BudgetConfig {
    /// What a retry costs, by how the attempt before it ended.
    pub fn cost(&self, no_answer: bool) -> u32 {
        if no_answer {
            self.timeout_cost
        } else {
            self.retry_cost
        }
    }
}

/// One origin's bucket: `tokens` at `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    tokens: f64,
    at: Mono,
}

impl Budget {
    /// A full bucket.
    pub fn new(config: &BudgetConfig) -> Budget {
        Budget { tokens: config.capacity as f64, at: Mono(f64::NEG_INFINITY) }
    }

    /// The tokens at `now`, refill included.
    pub fn level(&self, config: &BudgetConfig, now: Mono) -> f64 {
        let elapsed = now - self.at;
        let refill = if elapsed > 0.0 { elapsed * config.refill_per_sec as f64 / 1000.0 } else { 0.0 };
        let level = self.tokens + refill;
        let capacity = config.capacity as f64;
        if level < capacity { level } else { capacity }
    }

    fn set(&mut self, tokens: f64, now: Mono) {
        self.tokens = tokens.max(0.0);
        // A clock that is not finite, or earlier than the last update, adds nothing.
        if now.0.is_finite() && now > self.at {
            self.at = now;
        }
    }

    /// How long until the bucket holds `cost` (ms); 0 when it does now.
    pub fn wait_ms(&self, config: &BudgetConfig, cost: u32, now: Mono) -> u64 {
        let short = cost as f64 - self.level(config, now);
        if short <= 0.0 {
            return 0;
        }
        // refill_per_sec >= 1 (options.rs): a finite wait.
        super::num::ceil_ms(short * 1000.0 / config.refill_per_sec.max(1) as f64).max(1)
    }

    /// Takes `cost` if the bucket holds it; else says how long until it will (ms).
    pub fn withdraw(&mut self, config: &BudgetConfig, cost: u32, now: Mono) -> Result<(), u64> {
        match self.wait_ms(config, cost, now) {
            0 => {
                self.take(config, cost, now);
                Ok(())
            }
            wait => Err(wait),
        }
    }

    /// Takes `n` whatever is left, down to empty (another tab's spending).
    pub fn take(&mut self, config: &BudgetConfig, n: u32, now: Mono) {
        let level = self.level(config, now);
        self.set(level - n as f64, now);
    }

    /// Adds `n`, up to the capacity. False when the bucket was full already
    /// (nothing changed, nobody needs to hear of it).
    pub fn deposit(&mut self, config: &BudgetConfig, n: u32, now: Mono) -> bool {
        let level = self.level(config, now);
        let capacity = config.capacity as f64;
        self.set((level + n as f64).min(capacity), now);
        level < capacity
    }

    /// Another tab says the bucket holds `tokens`: the smaller of the two
    /// stands (a tab that opened later knows nothing of what was spent).
    pub fn adopt(&mut self, config: &BudgetConfig, tokens: f64, now: Mono) {
        let level = self.level(config, now);
        if tokens.is_finite() && tokens < level {
            self.set(tokens, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: BudgetConfig = BudgetConfig { capacity: 500, retry_cost: 5, timeout_cost: 10, refill_per_sec: 1 };

    #[test]
    fn a_full_bucket_pays_a_hundred_retries_then_refuses() {
        let mut b = Budget::new(&AWS);
        for n in 0..100 {
            assert_eq!(b.withdraw(&AWS, AWS.cost(false), Mono(0.0)), Ok(()), "retry {n}");
        }
        // Empty: 5 tokens at 1 a second.
        assert_eq!(b.withdraw(&AWS, 5, Mono(0.0)), Err(5_000));
        assert_eq!(b.withdraw(&AWS, 10, Mono(1_000.0)), Err(9_000));
        assert_eq!(b.withdraw(&AWS, 5, Mono(5_000.0)), Ok(()));
    }

    #[test]
    fn timeouts_cost_twice_as_much() {
        let mut b = Budget::new(&AWS);
        for _ in 0..50 {
            assert!(b.withdraw(&AWS, AWS.cost(true), Mono(0.0)).is_ok());
        }
        assert!(b.withdraw(&AWS, AWS.cost(false), Mono(0.0)).is_err());
    }

    #[test]
    fn deposits_stop_at_capacity_and_say_whether_they_mattered() {
        let mut b = Budget::new(&AWS);
        assert!(!b.deposit(&AWS, 1, Mono(0.0)), "full already");
        b.take(&AWS, 7, Mono(0.0));
        assert!(b.deposit(&AWS, 5, Mono(0.0)));
        assert_eq!(b.level(&AWS, Mono(0.0)), 498.0);
        assert!(b.deposit(&AWS, 5, Mono(0.0)));
        assert_eq!(b.level(&AWS, Mono(0.0)), 500.0);
    }

    #[test]
    fn refill_follows_the_clock_and_never_runs_backwards() {
        let mut b = Budget::new(&AWS);
        b.take(&AWS, 500, Mono(10_000.0));
        assert_eq!(b.level(&AWS, Mono(12_500.0)), 2.5);
        // An earlier clock (another tab's, a jump) neither refills nor drains.
        assert_eq!(b.level(&AWS, Mono(0.0)), 0.0);
        b.deposit(&AWS, 1, Mono(f64::NAN));
        assert_eq!(b.level(&AWS, Mono(12_500.0)), 3.5);
        assert_eq!(b.level(&AWS, Mono(1e300)), 500.0);
    }

    #[test]
    fn a_peer_level_lowers_ours_never_raises_it() {
        let mut b = Budget::new(&AWS);
        b.adopt(&AWS, 120.0, Mono(0.0));
        assert_eq!(b.level(&AWS, Mono(0.0)), 120.0);
        b.adopt(&AWS, 400.0, Mono(0.0));
        b.adopt(&AWS, f64::NAN, Mono(0.0));
        assert_eq!(b.level(&AWS, Mono(0.0)), 120.0);
    }

    #[test]
    fn a_wait_ends_with_the_cost_in_the_bucket() {
        // Costs never exceed the capacity (options.rs), so every wait ends.
        let small = BudgetConfig { capacity: 10, retry_cost: 10, timeout_cost: 10, refill_per_sec: 1 };
        let mut b = Budget::new(&small);
        b.take(&small, 10, Mono(0.0));
        let wait = b.wait_ms(&small, 10, Mono(0.0));
        assert_eq!(wait, 10_000);
        assert_eq!(b.withdraw(&small, 10, Mono(wait as f64)), Ok(()));
    }
}
