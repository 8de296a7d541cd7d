//! One breaker and one retry budget per origin across the tabs and workers
//! of the origin.
//!
//! Each tab runs its own engine. Where tabs share an IndexedDB outbox
//! (browsers), they also share what they learn of each origin: every failure
//! a breaker counts, a success that ends a run of them, a breaker opening
//! (and for how long) or closing after its probe, every token taken from or
//! paid back into the budget, as notes to the other tabs (notes.rs). So four tabs open on the threshold's failures
//! together (not each on its own threshold: four times the failures), wait
//! out one cooldown, send one probe under the origin's probe lock
//! (attempt.rs), and spend one budget.
//!
//! A tab that starts asks (`Hello`); the others answer with what they know
//! and the more cautious one stands: the later end of a cooldown, the higher
//! failure count, the lower budget. Where there is no channel (Node, Deno,
//! workerd, a memory store) each client keeps its own, as before.

#[allow(unused_imports)]
use crate::prelude::*;

use super::notes::Tag;
use super::{Engine, Now};
use crate::core::breaker::{BreakerState, Transition};
use crate::core::codec::Reader;

impl Engine {
    pub(crate) fn note_spent(&mut self, origin: &str, cost: u32) {
        if let Some(w) = self.note(Tag::Spent, origin) {
            w.u32(cost);
        }
    }

    /// A retry pays `cost` (0: nothing to pay).
    pub(crate) fn spend(&mut self, now: Now, origin: &str, cost: u32) {
        if let Some(config) = self.origins.budget.filter(|_| cost > 0) {
            self.origins.get(origin).budget.take(&config, cost, now.mono);
            self.note_spent(origin, cost);
        }
    }

    /// A definitive answer pays `n` back.
    pub(crate) fn refund(&mut self, now: Now, origin: &str, n: u32) {
        let Some(config) = self.origins.budget else { return };
        if self.origins.get(origin).budget.deposit(&config, n, now.mono) {
            if let Some(w) = self.note(Tag::Refunded, origin) {
                w.u32(n);
            }
        }
    }

    /// The breaker hears an attempt's verdict; the others hear what changed.
    pub(crate) fn breaker_verdict(&mut self, now: Now, origin: &str, definitive: bool) {
        let Some(breaker) = self.origins.get(origin).breaker.as_mut() else { return };
        let before = breaker.state();
        let transition = match definitive {
            true => breaker.on_success(),
            false => breaker.on_failure(now.mono, &mut self.rng),
        };
        let after = breaker.state();
        match (transition, before) {
            (Some(Transition::Opened), _) => self.note_state(now, origin, after),
            (Some(Transition::Closed), _) => drop(self.note(Tag::Closed, origin)),
            (None, BreakerState::Closed { .. }) if !definitive => drop(self.note(Tag::Failed, origin)),
            (None, BreakerState::Closed { failures }) if failures > 0 => self.note_state(now, origin, after),
            _ => {}
        }
        self.breaker_event(origin, transition);
    }

    /// The breaker's state as a note: its count, or how long it stays open.
    fn note_state(&mut self, now: Now, origin: &str, state: BreakerState) {
        match state {
            BreakerState::Closed { failures } => {
                if let Some(w) = self.note(Tag::Count, origin) {
                    w.u32(failures);
                }
            }
            // Half-open: a probe is out: open, and due.
            open => {
                let until = if let BreakerState::Open { until } = open { until } else { now.mono };
                if let Some(w) = self.note(Tag::Opened, origin) {
                    w.f64((until - now.mono).max(0.0));
                }
            }
        }
    }

    /// A note about an origin's breaker or budget (notes.rs).
    pub(crate) fn apply(&mut self, now: Now, tag: Tag, r: &mut Reader) -> Option<()> {
        let origin = r.string().ok()?;
        let config = self.origins.budget;
        let o = self.origins.get(&origin);
        // No cooldown is longer than ours: another tab's cannot open us for longer.
        let longest = o.breaker.as_ref().map_or(0.0, |b| b.config().cooldown_ms as f64);
        let breaker = o.breaker.as_mut();
        let transition = match tag {
            Tag::Failed => breaker.and_then(|b| b.peer_failure(now.mono, &mut self.rng)),
            Tag::Count => {
                let n = r.u32().ok()?;
                breaker.map(|b| b.peer_count(n));
                None
            }
            Tag::Opened => {
                let ms = r.finite().ok()?;
                breaker.and_then(|b| b.peer_opened(now.mono + ms.max(0.0).min(longest)))
            }
            Tag::Closed => breaker.and_then(|b| b.peer_closed()),
            Tag::Level => {
                let tokens = r.finite().ok()?;
                config.map(|c| o.budget.adopt(&c, tokens, now.mono));
                None
            }
            _ => {
                let n = r.u32().ok()?;
                if let Some(c) = config {
                    match tag == Tag::Spent {
                        true => o.budget.take(&c, n, now.mono),
                        false => drop(o.budget.deposit(&c, n, now.mono)),
                    }
                }
                None
            }
        };
        self.breaker_event(&origin, transition);
        Some(())
    }

    /// What this tab knows that a starting one does not: each origin whose
    /// breaker is not closed and clean, or whose budget is not full.
    pub(crate) fn answer_hello(&mut self, now: Now) {
        for i in 0..self.origins.all().len() {
            let o = &self.origins.all()[i];
            let (name, state) = (o.name.clone(), o.breaker.as_ref().map(|b| b.state()));
            let level = self.origins.budget.map(|c| (o.budget.level(&c, now.mono), c.capacity as f64));
            if let Some(state) = state.filter(|s| *s != BreakerState::Closed { failures: 0 }) {
                self.note_state(now, &name, state);
            }
            if let Some((tokens, _)) = level.filter(|(t, capacity)| t < capacity) {
                if let Some(w) = self.note(Tag::Level, &name) {
                    w.f64(tokens);
                }
            }
        }
    }
}
