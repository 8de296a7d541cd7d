//! Checks of the fleet rules (src/core/engine/fleet.rs, attempt.rs), from
//! what the simulated world sees: the attempts each client puts on the wire
//! and when the engine stops waiting for them, the definitive answers each
//! client is handed, the tabs' 'breaker' reports, and the channel between
//! tabs.
//!
//! - Budget: a client never sends more retries than its bucket could have
//!   paid for: its capacity, its refill over its life, and what definitive
//!   answers paid back (its own, or with shared budgets every tab's).
//! - With shared breakers (tabs with Web Locks): once a tab's breaker
//!   opens on its own verdict and it has told the others, no tab that has
//!   heard it (or, starting later, asked one that had) sends to that origin
//!   for the shortest cooldown; and until the breaker closes again, those
//!   tabs have at most one attempt to the origin out at a time (the probe,
//!   under the origin's probe lock). When every tab that knew has died, the
//!   knowledge is gone with them: a new tab starts closed.

use std::collections::{BTreeMap, BTreeSet};

use durafetch::core::budget::BudgetConfig;

/// How long a note takes from one tab to another (BroadcastChannel).
pub const CHANNEL_MS: u64 = 1;

#[derive(Clone, Debug, Default)]
pub struct FleetFigures {
    /// Retries sent, and the most any client sent against its allowance.
    pub retries: u64,
    pub tightest_budget: f64,
    /// Breakers opened on a tab's own verdict and told to the others.
    pub shared_opens: u64,
    /// Sends a tab that had heard was kept from: checked sends in an open window.
    pub sends_while_open: u64,
    /// Notes delivered between tabs.
    pub notes: u64,
    /// Retries the budget could not pay for, as reported ('queued' or
    /// 'giveup' with reason 'budget').
    pub budget_refusals: u64,
}

impl FleetFigures {
    pub fn add(&mut self, o: &FleetFigures) {
        self.retries += o.retries;
        self.tightest_budget = self.tightest_budget.max(o.tightest_budget);
        self.shared_opens += o.shared_opens;
        self.sends_while_open += o.sends_while_open;
        self.notes += o.notes;
        self.budget_refusals += o.budget_refusals;
    }
}

struct Instance {
    started: u64,
    /// Retries sent, per origin: each origin has its own bucket.
    retries: BTreeMap<String, u64>,
    answers: u64,
}

/// A breaker opened on a tab's own verdict: since when, and until when no
/// tab that heard may send (the shortest cooldown).
struct Episode {
    opener: u64,
    opened_at: u64,
    silent_until: u64,
    /// The tabs that know of it, and from when.
    knowers: BTreeMap<u64, u64>,
}

pub struct FleetCheck {
    shared: bool,
    budget: Option<BudgetConfig>,
    cooldown_ms: Option<u64>,
    instances: BTreeMap<u64, Instance>,
    alive: BTreeSet<u64>,
    /// Definitive answers handed to any tab (shared budgets refund them all).
    answers: u64,
    episodes: BTreeMap<String, Episode>,
    /// Attempts the engines wait for: (instance, io) -> (origin, the
    /// episode it was sent in after hearing of it, if it was).
    out: BTreeMap<(u64, u32), (String, Option<u64>)>,
    pub figures: FleetFigures,
    pub violations: Vec<String>,
}

impl FleetCheck {
    pub fn new(shared: bool, budget: Option<BudgetConfig>, cooldown_ms: Option<u64>) -> FleetCheck {
        FleetCheck {
            shared,
            budget,
            cooldown_ms,
            instances: BTreeMap::new(),
            alive: BTreeSet::new(),
            answers: 0,
            episodes: BTreeMap::new(),
            out: BTreeMap::new(),
            figures: FleetFigures::default(),
            violations: Vec::new(),
        }
    }

    pub fn started(&mut self, instance: u64, now: u64) {
        self.instances.insert(instance, Instance { started: now, retries: BTreeMap::new(), answers: 0 });
        self.alive.insert(instance);
    }

    pub fn died(&mut self, instance: u64) {
        self.alive.remove(&instance);
        self.out.retain(|(i, _), _| *i != instance);
        for e in self.episodes.values_mut() {
            e.knowers.remove(&instance);
        }
        self.episodes.retain(|_, e| !e.knowers.is_empty());
    }

    /// Attempt `number` of an operation to `origin` leaves client `instance`.
    pub fn sent(&mut self, instance: u64, io: u32, origin: &str, number: u32, now: u64) {
        let Some(inst) = self.instances.get_mut(&instance) else { return };
        let started = inst.started;
        if number > 1 {
            let retries = inst.retries.entry(origin.to_string()).or_insert(0);
            *retries += 1;
            let retries = *retries;
            self.figures.retries += 1;
            if let Some(b) = self.budget {
                let answers = if self.shared { self.answers } else { inst.answers };
                let allowance = b.capacity as f64
                    + b.refill_per_sec as f64 * (now - started) as f64 / 1000.0
                    + b.timeout_cost.max(b.retry_cost) as f64 * answers as f64;
                let spent = (retries * b.retry_cost.min(b.timeout_cost) as u64) as f64;
                self.figures.tightest_budget = self.figures.tightest_budget.max(spent / allowance);
                if spent > allowance {
                    self.violations.push(format!(
                        "budget: c{instance} sent its retry {retries} to {origin} (at least {spent} tokens) at t={now} ms, its bucket allowed {allowance:.1} \
                         (capacity {}, refill {}/s over {} ms, {answers} answers paid back)",
                        b.capacity, b.refill_per_sec, now - started
                    ));
                }
            }
        }
        let mut episode = None;
        let heard = self.episodes.get(origin).filter(|_| self.shared).and_then(|e| Some((e, *e.knowers.get(&instance)?)));
        if let Some((e, _)) = heard.filter(|(_, heard_at)| now > *heard_at) {
            self.figures.sends_while_open += 1;
            episode = Some(e.opened_at);
            if now < e.silent_until {
                self.violations.push(format!(
                    "fleet: c{instance} sent to {origin} at t={now} ms, while the breaker c{} opened at t={} ms cools down (until at least t={})",
                    e.opener, e.opened_at, e.silent_until
                ));
            }
            let others: Vec<u64> =
                self.out.iter().filter(|(_, (o, ep))| o == origin && *ep == episode).map(|((i, _), _)| *i).collect();
            if !others.is_empty() {
                self.violations.push(format!(
                    "fleet: c{instance} sent to {origin} at t={now} ms while {others:?} had an attempt out and the breaker c{} opened at t={} ms was not closed: two probes at once",
                    e.opener, e.opened_at
                ));
            }
        }
        self.out.insert((instance, io), (origin.to_string(), episode));
    }

    /// The engine stopped waiting for the attempt (an answer, a failure, a cancel).
    pub fn ended(&mut self, instance: u64, io: u32, definitive: bool) {
        self.out.remove(&(instance, io));
        if definitive {
            self.answers += 1;
            if let Some(inst) = self.instances.get_mut(&instance) {
                inst.answers += 1;
            }
        }
    }

    /// A tab's breaker opened on its own verdict, and it told the others.
    pub fn opened(&mut self, instance: u64, origin: &str, now: u64) {
        let (Some(cooldown), true) = (self.cooldown_ms, self.shared) else { return };
        self.figures.shared_opens += 1;
        // The others alive now hear it one hop later.
        let mut knowers: BTreeMap<u64, u64> = self.alive.iter().map(|i| (*i, now + CHANNEL_MS)).collect();
        knowers.insert(instance, now);
        self.episodes.insert(origin.to_string(), Episode { opener: instance, opened_at: now, silent_until: now + cooldown / 2, knowers });
    }

    /// A breaker closed (a probe succeeded, or the device came back online).
    pub fn closed(&mut self, origin: Option<&str>) {
        match origin {
            Some(origin) => drop(self.episodes.remove(origin)),
            None => self.episodes.clear(),
        }
    }

    /// A note `from` posted at `posted_at` reaches `to`. Posted by a tab
    /// that knew, after `to` started (so after it heard `to`'s hello), it
    /// carries the answer: `to` knows from now.
    pub fn delivered(&mut self, from: u64, to: u64, posted_at: u64, now: u64) {
        self.figures.notes += 1;
        let Some(started) = self.instances.get(&to).map(|i| i.started) else { return };
        for e in self.episodes.values_mut() {
            let knew = e.knowers.get(&from).is_some_and(|since| *since <= posted_at);
            if knew && posted_at > started && !e.knowers.contains_key(&to) {
                e.knowers.insert(to, now);
            }
        }
    }
}
