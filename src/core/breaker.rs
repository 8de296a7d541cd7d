//! A consecutive-failure circuit breaker, one per origin.
//!
//! When an origin keeps failing, every client retrying it adds load to a server
//! that is already down. After `failure_threshold` transient failures in a row
//! the breaker opens: calls fail fast and nothing reaches the server. After
//! a cooldown exactly one probe is let through (half-open); its success
//! closes the breaker, its failure opens it for another cooldown.
//!
//! The cooldown is jittered, uniform in `[cooldown_ms / 2, cooldown_ms]`.
//! Clients that failed together open together; with a fixed cooldown they
//! would all probe in the same instant, every cooldown, and a recovering
//! server would see the herd again (bench/herd.rs measured recovery taking
//! 212 s instead of 31 s that way).

#[allow(unused_imports)]
use crate::prelude::*;
use super::clock::Mono;
use super::rng::SplitMix64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub cooldown_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failure_threshold: 5, cooldown_ms: 30_000 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BreakerState {
    Closed { failures: u32 },
    Open { until: Mono },
    HalfOpen { probing: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// The one request let through to test a recovering origin.
    Probe,
    /// Fail fast. `retry_in_ms` is the rest of the cooldown (0 while a probe is out).
    Rejected { retry_in_ms: u64 },
}

crate::core::contract::names! {
    /// Named after what happened, for 'breaker' events (the state it entered).
    Transition {
        Opened = "open",
        HalfOpened = "half-open",
        Closed = "closed",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker { config, state: BreakerState::Closed { failures: 0 } }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Asks to send one request at `now`. A `Probe` must be followed by
    /// exactly one of `on_success`, `on_failure` or `on_abandon`.
    pub fn admit(&mut self, now: Mono) -> (Admission, Option<Transition>) {
        match self.state {
            BreakerState::Closed { .. } => (Admission::Allowed, None),
            BreakerState::Open { until } if now < until => {
                let left = super::num::ceil_ms(until - now);
                (Admission::Rejected { retry_in_ms: left }, None)
            }
            BreakerState::Open { .. } => {
                self.state = BreakerState::HalfOpen { probing: true };
                (Admission::Probe, Some(Transition::HalfOpened))
            }
            BreakerState::HalfOpen { probing: true } => (Admission::Rejected { retry_in_ms: 0 }, None),
            BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                (Admission::Probe, None)
            }
        }
    }

    pub fn on_success(&mut self) -> Option<Transition> {
        match self.state {
            BreakerState::Closed { .. } => {
                self.state = BreakerState::Closed { failures: 0 };
                None
            }
            // A late success from before the breaker opened proves little.
            BreakerState::Open { .. } => None,
            BreakerState::HalfOpen { .. } => {
                self.state = BreakerState::Closed { failures: 0 };
                Some(Transition::Closed)
            }
        }
    }

    pub fn on_failure(&mut self, now: Mono, rng: &mut SplitMix64) -> Option<Transition> {
        match self.state {
            BreakerState::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.config.failure_threshold {
                    self.open(now, rng)
                } else {
                    self.state = BreakerState::Closed { failures };
                    None
                }
            }
            BreakerState::Open { .. } => None,
            BreakerState::HalfOpen { .. } => self.open(now, rng),
        }
    }

    /// The probe ended without a verdict (the caller aborted): let another try.
    pub fn on_abandon(&mut self) {
        if let BreakerState::HalfOpen { .. } = self.state {
            self.state = BreakerState::HalfOpen { probing: false };
        }
    }

    // ---- what another tab of the origin reports (engine/fleet.rs) -----

    /// Another tab counted a failure. Counted here too while closed, so the
    /// tabs of an origin open on their failures together, not each on its
    /// own threshold. A probe of ours in flight decides alone.
    pub fn peer_failure(&mut self, now: Mono, rng: &mut SplitMix64) -> Option<Transition> {
        match self.state {
            BreakerState::Closed { .. } => self.on_failure(now, rng),
            _ => None,
        }
    }

    /// Another tab's success ended a run of failures, or it reports its count.
    pub fn peer_count(&mut self, failures: u32) {
        if let BreakerState::Closed { failures: ours } = self.state {
            // A success (0) resets; a count from a tab that saw more raises ours.
            let failures = if failures == 0 { 0 } else { ours.max(failures) };
            self.state = BreakerState::Closed { failures };
        }
    }

    /// Another tab's breaker opened until `until` (on our clock). The
    /// later until stands, so tabs that opened together reach their probe
    /// together and one of them takes it; a probe of ours in flight decides.
    pub fn peer_opened(&mut self, until: Mono) -> Option<Transition> {
        match self.state {
            BreakerState::HalfOpen { probing: true } => None,
            BreakerState::Open { until: ours } => {
                self.state = BreakerState::Open { until: ours.max(until) };
                None
            }
            _ => {
                self.state = BreakerState::Open { until };
                Some(Transition::Opened)
            }
        }
    }

    /// Another tab's probe succeeded.
    pub fn peer_closed(&mut self) -> Option<Transition> {
        match self.state {
            BreakerState::Closed { .. } => None,
            _ => {
                self.state = BreakerState::Closed { failures: 0 };
                Some(Transition::Closed)
            }
        }
    }

    fn open(&mut self, now: Mono, rng: &mut SplitMix64) -> Option<Transition> {
        let now = if now.0.is_finite() { now } else { Mono(0.0) };
        let full = self.config.cooldown_ms;
        let cooldown = full - rng.up_to(full / 2);
        self.state = BreakerState::Open { until: now + cooldown as f64 };
        Some(Transition::Opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig { failure_threshold: 3, cooldown_ms: 1_000 })
    }

    /// A generator whose jitter draws 0: the cooldown is the full one.
    fn no_jitter() -> SplitMix64 {
        let mut seed = 0;
        while SplitMix64::new(seed).up_to(500) != 0 {
            seed += 1;
        }
        SplitMix64::new(seed)
    }

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let mut b = breaker();
        assert_eq!(b.on_failure(Mono(0.0), &mut no_jitter()), None);
        assert_eq!(b.on_failure(Mono(0.0), &mut no_jitter()), None);
        assert_eq!(b.on_failure(Mono(10.0), &mut no_jitter()), Some(Transition::Opened));
        assert_eq!(b.admit(Mono(10.0)), (Admission::Rejected { retry_in_ms: 1_000 }, None));
        assert_eq!(b.admit(Mono(509.5)), (Admission::Rejected { retry_in_ms: 501 }, None));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut b = breaker();
        b.on_failure(Mono(0.0), &mut no_jitter());
        b.on_failure(Mono(0.0), &mut no_jitter());
        b.on_success();
        b.on_failure(Mono(0.0), &mut no_jitter());
        b.on_failure(Mono(0.0), &mut no_jitter());
        assert_eq!(b.admit(Mono(0.0)).0, Admission::Allowed);
    }

    #[test]
    fn one_probe_after_cooldown_then_close_on_success() {
        let mut b = breaker();
        (0..3).for_each(|_| {
            b.on_failure(Mono(0.0), &mut no_jitter());
        });
        assert_eq!(b.admit(Mono(1_000.0)), (Admission::Probe, Some(Transition::HalfOpened)));
        assert_eq!(b.admit(Mono(1_001.0)), (Admission::Rejected { retry_in_ms: 0 }, None));
        assert_eq!(b.on_success(), Some(Transition::Closed));
        assert_eq!(b.admit(Mono(1_002.0)), (Admission::Allowed, None));
    }

    #[test]
    fn failed_probe_reopens_for_a_full_cooldown() {
        let mut b = breaker();
        (0..3).for_each(|_| {
            b.on_failure(Mono(0.0), &mut no_jitter());
        });
        assert_eq!(b.admit(Mono(1_000.0)).0, Admission::Probe);
        assert_eq!(b.on_failure(Mono(1_200.0), &mut no_jitter()), Some(Transition::Opened));
        assert_eq!(b.admit(Mono(2_199.0)), (Admission::Rejected { retry_in_ms: 1 }, None));
        assert_eq!(b.admit(Mono(2_200.0)).0, Admission::Probe);
    }

    #[test]
    fn abandoned_probe_lets_the_next_caller_probe() {
        let mut b = breaker();
        (0..3).for_each(|_| {
            b.on_failure(Mono(0.0), &mut no_jitter());
        });
        assert_eq!(b.admit(Mono(1_000.0)).0, Admission::Probe);
        b.on_abandon();
        assert_eq!(b.admit(Mono(1_000.0)), (Admission::Probe, None));
    }

    #[test]
    fn cooldowns_are_jittered_within_half_to_full() {
        let mut rng = SplitMix64::new(11);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let mut b = breaker();
            (0..3).for_each(|_| {
                b.on_failure(Mono(0.0), &mut rng);
            });
            let BreakerState::Open { until } = b.state() else { panic!("open") };
            assert!((500.0..=1_000.0).contains(&until.0), "{until:?}");
            seen.insert(until.0 as u64);
        }
        assert!(seen.len() > 100, "the cooldowns are spread, not one value");
    }

    #[test]
    fn peers_open_count_and_close_it() {
        let mut b = breaker();
        b.peer_failure(Mono(0.0), &mut no_jitter());
        b.peer_count(1);
        assert_eq!(b.state(), BreakerState::Closed { failures: 1 });
        b.peer_count(0);
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        b.peer_count(2);
        assert_eq!(b.peer_failure(Mono(5.0), &mut no_jitter()), Some(Transition::Opened));
        // Two tabs opened together: the later until stands, either way round.
        assert_eq!(b.peer_opened(Mono(4_000.0)), None);
        assert_eq!(b.state(), BreakerState::Open { until: Mono(4_000.0) });
        assert_eq!(b.peer_opened(Mono(10.0)), None);
        assert_eq!(b.state(), BreakerState::Open { until: Mono(4_000.0) });
        assert_eq!(b.admit(Mono(4_000.0)).0, Admission::Probe);
        // Our probe is out: another tab's news waits for its verdict.
        assert_eq!(b.peer_opened(Mono(9_000.0)), None);
        assert_eq!(b.peer_failure(Mono(4_001.0), &mut no_jitter()), None);
        assert_eq!(b.on_success(), Some(Transition::Closed));
        b.peer_count(3);
        assert_eq!(b.peer_opened(Mono(9_000.0)), Some(Transition::Opened));
        assert_eq!(b.peer_closed(), Some(Transition::Closed));
        assert_eq!(b.peer_closed(), None);
    }

    #[test]
    fn late_success_while_open_keeps_it_open() {
        let mut b = breaker();
        (0..3).for_each(|_| {
            b.on_failure(Mono(0.0), &mut no_jitter());
        });
        assert_eq!(b.on_success(), None);
        assert!(matches!(b.admit(Mono(1.0)).0, Admission::Rejected { .. }));
    }
}
