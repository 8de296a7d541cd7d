//! What the engine knows of each origin it talks to: its circuit breaker
//! and its retry budget, made on the first request to it.
//!
//! Failures while the device is offline are the device's, not the server's:
//! the engine does not record them (a probe that fails offline is
//! abandoned), and going back online closes every breaker. Budgets are
//! kept: they measure the server, and refill on their own.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::breaker::{Breaker, BreakerConfig, BreakerState};
use crate::core::budget::{Budget, BudgetConfig};
use crate::core::clock::Mono;

pub(crate) struct Origins {
    pub breaker: Option<BreakerConfig>,
    pub budget: Option<BudgetConfig>,
    /// A handful of origins: a Vec is smaller in the .wasm than a map.
    list: Vec<Origin>,
}

pub(crate) struct Origin {
    pub name: String,
    /// None when breakers are off.
    pub breaker: Option<Breaker>,
    /// Unused when budgets are off.
    pub budget: Budget,
    /// This tab holds the origin's probe lock (shared breakers, attempt.rs):
    /// after its probe failed, until the cooldown it opened ends (`release_at`,
    /// so no other tab probes in that cooldown.
    pub probe_held: bool,
    pub release_at: Option<Mono>,
}

impl Origins {
    pub fn new(breaker: Option<BreakerConfig>, budget: Option<BudgetConfig>) -> Origins {
        Origins { breaker, budget, list: Vec::new() }
    }

    /// The origin's state, made fresh on first use.
    pub fn get(&mut self, origin: &str) -> &mut Origin {
        let i = match self.list.iter().position(|o| o.name == origin) {
            Some(i) => i,
            None => {
                let budget = Budget::new(&self.budget.unwrap_or_default());
                let breaker = self.breaker.map(Breaker::new);
                self.list.push(Origin { name: origin.to_string(), breaker, budget, probe_held: false, release_at: None });
                self.list.len() - 1
            }
        };
        &mut self.list[i]
    }

    pub fn all(&self) -> &[Origin] {
        &self.list
    }

    /// When a held probe lock is next given back.
    pub fn wake_at(&self) -> Option<Mono> {
        self.list.iter().filter(|o| o.probe_held).filter_map(|o| o.release_at).reduce(Mono::min)
    }

    /// The origins whose probe lock, kept through a cooldown, is to be
    /// given back at `now` (all of them with `now` None), no longer held. A
    /// lock whose probe is still out stays with it (attempt.rs gives it back).
    pub fn release_probes(&mut self, now: Option<Mono>) -> Vec<String> {
        let mut due = Vec::new();
        for o in self.list.iter_mut().filter(|o| o.probe_held) {
            if o.release_at.is_some_and(|at| now.map_or(true, |now| at <= now)) {
                (o.probe_held, o.release_at) = (false, None);
                due.push(o.name.clone());
            }
        }
        due
    }

    /// Back online: every breaker starts closed. Returns the origins whose
    /// breaker was not closed (each gets a 'closed' event).
    pub fn close_all(&mut self) -> Vec<String> {
        let mut opened = Vec::new();
        for o in self.list.iter_mut() {
            if let Some(b) = o.breaker.as_mut() {
                if !matches!(b.state(), BreakerState::Closed { .. }) {
                    opened.push(o.name.clone());
                }
                *b = Breaker::new(*b.config());
            }
        }
        opened
    }
}
