//! One circuit breaker per origin, created on the first request to it.
//!
//! Failures while the device is offline are the device's, not the server's:
//! the engine does not record them (a probe that fails offline is
//! abandoned), and going back online closes every breaker.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::breaker::{Admission, Breaker, BreakerConfig, BreakerState, Transition};
use crate::core::outcome::{Outcome, StatusSet};
use crate::core::rng::SplitMix64;

pub(crate) struct Breakers {
    config: Option<BreakerConfig>,
    /// A handful of origins: a Vec is smaller in the .wasm than a map.
    by_origin: Vec<(String, Breaker)>,
}

impl Breakers {
    pub fn new(config: Option<BreakerConfig>) -> Breakers {
        Breakers { config, by_origin: Vec::new() }
    }

    fn get_mut(&mut self, origin: &str) -> Option<&mut Breaker> {
        self.by_origin.iter_mut().find(|(o, _)| o == origin).map(|(_, b)| b)
    }

    pub fn admit(&mut self, origin: &str, now_ms: f64) -> (Admission, Option<Transition>) {
        let Some(config) = self.config else {
            return (Admission::Allowed, None);
        };
        if self.get_mut(origin).is_none() {
            self.by_origin.push((origin.to_string(), Breaker::new(config)));
        }
        match self.get_mut(origin) {
            Some(breaker) => breaker.admit(now_ms),
            None => (Admission::Allowed, None),
        }
    }

    /// The verdict of one attempt; `None` when it ended without one (aborted,
    /// or failed while offline): a probe is then given back.
    pub fn record(
        &mut self,
        origin: &str,
        outcome: Option<&Outcome>,
        retry_on: &StatusSet,
        now_ms: f64,
        rng: &mut SplitMix64,
    ) -> Option<Transition> {
        let breaker = self.get_mut(origin)?;
        match outcome {
            None => {
                breaker.on_abandon();
                None
            }
            Some(o) if o.retry_reason(retry_on).is_some() => breaker.on_failure(now_ms, rng),
            Some(_) => breaker.on_success(),
        }
    }

    /// An attempt ended without a verdict (aborted, closed, or failed
    /// while offline): a probe it carried is given back.
    pub fn abandon(&mut self, origin: &str) {
        if let Some(breaker) = self.get_mut(origin) {
            breaker.on_abandon();
        }
    }

    /// Back online: every breaker starts closed. Returns the origins whose
    /// breaker was not closed (each gets a 'closed' event).
    pub fn close_all(&mut self) -> Vec<String> {
        let open = self
            .by_origin
            .drain(..)
            .filter(|(_, b)| !matches!(b.state(), BreakerState::Closed { .. }))
            .map(|(origin, _)| origin)
            .collect();
        open
    }
}
