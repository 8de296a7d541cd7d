//! The retry schedule of one live call: when to send, how long each attempt
//! may take, and what to do with each outcome.
//!
//! A call is bounded three ways: `max_attempts` (counting the first),
//! `deadline_ms` over the whole call, and `attempt_timeout_ms` per attempt,
//! clipped so no attempt outlives the deadline. Time comes in as epoch
//! milliseconds and may jump either way (NTP, a laptop waking up): elapsed
//! time is clamped at zero, so a backwards jump never extends a deadline by
//! more than the jump and never panics.

#[allow(unused_imports)]
use crate::prelude::*;
use super::backoff::Backoff;
use super::clock::Mono;
use super::contract::GiveUpReason;
use super::outcome::{Outcome, RetryReason, StatusSet};
use super::rng::SplitMix64;

#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub deadline_ms: u64,
    pub attempt_timeout_ms: u64,
    pub retry_on: StatusSet,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            backoff: Backoff { base_ms: 100, cap_ms: 20_000 },
            deadline_ms: 30_000,
            attempt_timeout_ms: 10_000,
            retry_on: StatusSet::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// `max_attempts` were made.
    Exhausted,
    /// The next attempt (or the wait the server asked for) would end after the deadline.
    Deadline,
}

impl From<GiveUp> for GiveUpReason {
    fn from(g: GiveUp) -> GiveUpReason {
        match g {
            GiveUp::Exhausted => GiveUpReason::Exhausted,
            GiveUp::Deadline => GiveUpReason::Deadline,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptPlan {
    /// 1 for the first attempt.
    pub attempt: u32,
    pub timeout_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The outcome is the server's definitive answer.
    Settle,
    Retry { delay_ms: u64, reason: RetryReason, server_asked: bool },
    GiveUp(GiveUp),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    started_at: Mono,
    attempts: u32,
}

impl Schedule {
    pub fn new(now: Mono) -> Self {
        Schedule { started_at: now, attempts: 0 }
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When no attempt may start any more.
    pub fn deadline_at(&self, policy: &RetryPolicy) -> Mono {
        let started = if self.started_at.0.is_finite() { self.started_at } else { Mono(0.0) };
        started + policy.deadline_ms as f64
    }

    /// The attempt just made does not count: it failed while the device was
    /// offline, which says nothing about the server.
    pub fn forget_attempt(&mut self) {
        self.attempts = self.attempts.saturating_sub(1);
    }

    fn remaining_ms(&self, policy: &RetryPolicy, now: Mono) -> u64 {
        let elapsed = now - self.started_at;
        let elapsed = if elapsed > 0.0 { elapsed as u64 } else { 0 };
        policy.deadline_ms.saturating_sub(elapsed)
    }

    /// Starts the next attempt, or says why none may start.
    pub fn begin_attempt(&mut self, policy: &RetryPolicy, now: Mono) -> Result<AttemptPlan, GiveUp> {
        if self.attempts >= policy.max_attempts {
            return Err(GiveUp::Exhausted);
        }
        let remaining = self.remaining_ms(policy, now);
        if remaining == 0 {
            return Err(GiveUp::Deadline);
        }
        self.attempts += 1;
        Ok(AttemptPlan { attempt: self.attempts, timeout_ms: policy.attempt_timeout_ms.min(remaining) })
    }

    /// Decides what follows the outcome of the attempt just made.
    pub fn after(&self, policy: &RetryPolicy, outcome: &Outcome, now: Mono, rng: &mut SplitMix64) -> Decision {
        let Some(reason) = outcome.retry_reason(&policy.retry_on) else {
            return Decision::Settle;
        };
        if self.attempts >= policy.max_attempts {
            return Decision::GiveUp(GiveUp::Exhausted);
        }
        let (delay_ms, server_asked) = match *outcome {
            Outcome::Response { retry_after_ms: Some(ms), .. } => (ms, true),
            _ => (policy.backoff.delay_ms(self.attempts.saturating_sub(1), rng), false),
        };
        // Resending early would ignore the server; waiting past the deadline
        // would break the caller's bound. Neither: settle now.
        if delay_ms >= self.remaining_ms(policy, now) {
            return Decision::GiveUp(GiveUp::Deadline);
        }
        Decision::Retry { delay_ms, reason, server_asked }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Outcome {
        Outcome::Response { status, retry_after_ms: None }
    }

    /// Runs a call to its end on a virtual clock where each attempt takes
    /// `took_ms` and ends with the next scripted outcome.
    fn run(policy: &RetryPolicy, script: &[Outcome], took_ms: u64, seed: u64) -> (Vec<u64>, u32, Decision) {
        let mut rng = SplitMix64::new(seed);
        let mut now = Mono(1_700_000_000_000.0);
        let mut schedule = Schedule::new(now);
        let mut waits = vec![];
        loop {
            let plan = match schedule.begin_attempt(policy, now) {
                Ok(plan) => plan,
                Err(give_up) => return (waits, schedule.attempts(), Decision::GiveUp(give_up)),
            };
            assert!(plan.timeout_ms <= policy.attempt_timeout_ms);
            now = now + took_ms.min(plan.timeout_ms) as f64;
            let outcome = script[(plan.attempt as usize - 1).min(script.len() - 1)];
            match schedule.after(policy, &outcome, now, &mut rng) {
                Decision::Retry { delay_ms, .. } => {
                    waits.push(delay_ms);
                    now = now + delay_ms as f64;
                }
                end => return (waits, schedule.attempts(), end),
            }
        }
    }

    #[test]
    fn settles_on_the_first_definitive_answer() {
        let p = RetryPolicy::default();
        assert_eq!(run(&p, &[status(503), status(503), status(200)], 5, 1).1, 3);
        assert_eq!(run(&p, &[status(400)], 5, 1), (vec![], 1, Decision::Settle));
    }

    #[test]
    fn exact_waits_for_a_fixed_seed() {
        let p = RetryPolicy::default();
        let (waits, attempts, end) = run(&p, &[Outcome::Network], 5, 1);
        assert_eq!(waits, [57, 149, 389, 355]);
        assert_eq!((attempts, end), (5, Decision::GiveUp(GiveUp::Exhausted)));
    }

    #[test]
    fn max_attempts_is_exact() {
        for max in 1..8 {
            let p = RetryPolicy { max_attempts: max, ..RetryPolicy::default() };
            assert_eq!(run(&p, &[status(503)], 1, 9).1, max);
        }
    }

    #[test]
    fn retry_after_is_honoured_above_the_cap_without_jitter() {
        let mut p = RetryPolicy::default();
        p.backoff.cap_ms = 1_000;
        let asked = Outcome::Response { status: 429, retry_after_ms: Some(7_000) };
        let (waits, ..) = run(&p, &[asked, status(200)], 1, 4);
        assert_eq!(waits, [7_000]);
    }

    #[test]
    fn retry_after_past_the_deadline_settles_instead_of_resending_early() {
        let p = RetryPolicy { deadline_ms: 5_000, ..RetryPolicy::default() };
        let asked = Outcome::Response { status: 503, retry_after_ms: Some(60_000) };
        assert_eq!(run(&p, &[asked], 1, 4), (vec![], 1, Decision::GiveUp(GiveUp::Deadline)));
    }

    #[test]
    fn attempt_timeout_is_clipped_by_the_deadline() {
        let p = RetryPolicy { deadline_ms: 2_500, attempt_timeout_ms: 1_000, ..RetryPolicy::default() };
        let mut s = Schedule::new(Mono(0.0));
        assert_eq!(s.begin_attempt(&p, Mono(0.0)).unwrap().timeout_ms, 1_000);
        assert_eq!(s.begin_attempt(&p, Mono(2_000.0)).unwrap().timeout_ms, 500);
        assert_eq!(s.begin_attempt(&p, Mono(2_500.0)), Err(GiveUp::Deadline));
    }

    #[test]
    fn properties_over_many_seeds() {
        for seed in 0..500 {
            let p = RetryPolicy {
                max_attempts: 1 + (seed % 9) as u32,
                deadline_ms: 1 + seed * 37 % 20_000,
                attempt_timeout_ms: 1 + seed * 13 % 3_000,
                ..RetryPolicy::default()
            };
            let (waits, attempts, end) = run(&p, &[Outcome::Timeout], 10_000, seed);
            assert!(attempts >= 1 && attempts <= p.max_attempts);
            for (n, w) in waits.iter().enumerate() {
                assert!(*w <= p.backoff.ceiling_ms(n as u32));
            }
            let spent: u64 = waits.iter().sum::<u64>()
                + (0..attempts).map(|_| p.attempt_timeout_ms).sum::<u64>();
            assert!(matches!(end, Decision::GiveUp(_)));
            // Nothing runs after the deadline: each attempt was clipped to it.
            assert!(spent <= p.deadline_ms + p.attempt_timeout_ms * attempts as u64);
        }
    }

    #[test]
    fn a_forgotten_attempt_gives_its_place_back() {
        let p = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
        let mut s = Schedule::new(Mono(0.0));
        assert!(s.begin_attempt(&p, Mono(0.0)).is_ok());
        s.forget_attempt();
        assert_eq!(s.begin_attempt(&p, Mono(1.0)).map(|a| a.attempt), Ok(1));
        assert_eq!(s.deadline_at(&p), Mono(30_000.0));
    }

    #[test]
    fn clock_jumps_never_panic_or_extend_forever() {
        let p = RetryPolicy::default();
        let mut s = Schedule::new(Mono(1_000.0));
        assert!(s.begin_attempt(&p, Mono(-1e18)).is_ok());
        assert!(s.begin_attempt(&p, Mono(f64::NAN)).is_ok());
        assert_eq!(s.begin_attempt(&p, Mono(1e18)), Err(GiveUp::Deadline));
    }
}
