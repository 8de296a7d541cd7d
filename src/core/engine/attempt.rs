//! One attempt on the wire: what a caller's call and a background resend
//! both send, and judge, the same way.
//!
//! A retry must first be paid for from the origin's retry budget (a first
//! attempt never is); then the origin's breaker admits it (a probe, when
//! half-open; where tabs share breakers, the probe is taken under the
//! origin's probe lock, so one goes per origin, not one per tab); then the
//! 'attempt' event and the send go out, and its timeout runs on the
//! monotonic clock. Its end is judged once for both: a failure while the
//! device is offline is the device's (not counted, a probe given back),
//! anything else is the breaker's verdict, and a definitive answer pays
//! the budget back.
//!
//! A cancelled attempt (timed out, aborted, closed) may still reach the
//! server: a platform's abort stops waiting, not always sending. Its key
//! *lingers* until the host says that fetch has ended, and meanwhile no
//! other send of the key starts here, whatever the platform's locks do:
//! one client never has one key in flight twice.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Engine, Event, Io, LockName, Mono, Mutant, Now, Source, Step, Task};
use crate::core::breaker::{Admission, BreakerState, Transition};
use crate::core::contract::EventKind;
use crate::core::key::origin_of;
use crate::core::outcome::Outcome;

/// How long a send waits when another tab holds the origin's probe lock.
pub(crate) const PROBE_ELSEWHERE_MS: u64 = 250;

pub(crate) struct Attempt {
    pub io: Io,
    /// Monotonic ms.
    pub timeout_at: Mono,
    /// The one request a half-open breaker lets through.
    probe: bool,
    /// It holds the origin's probe lock: given back after its verdict.
    probe_lock: bool,
    /// What it paid the retry budget (0: a first attempt).
    paid: u32,
}

/// A probe waiting for the origin's probe lock: the attempt it will be.
pub(crate) struct ProbeWait {
    pub io: Io,
    key: Option<String>,
    number: u32,
    timeout_ms: u64,
    cost: u32,
}

pub(crate) enum Started {
    Sent(Attempt),
    /// Waiting for the probe lock: `probe_locked` goes on once it answers.
    Probing(ProbeWait),
}

/// Why nothing was sent, and how long until something could be (ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The origin's breaker is open (0 while a probe is out here).
    Breaker(u64),
    /// The origin's retry budget cannot pay for the retry yet (jittered
    /// within [wait, 2 × wait]: not all at the instant it could).
    Budget(u64),
}

/// What is sent under which key (the host tells the 'attempt' listeners).
pub(crate) struct Send<'a> {
    pub key: Option<&'a str>,
    pub url: &'a str,
    /// 1 for the first.
    pub number: u32,
    pub resumed: bool,
    pub timeout_ms: u64,
    /// A retry: whether the attempt before it got no answer (what it
    /// costs). None for a first attempt, which the budget never refuses.
    pub retry: Option<bool>,
}

impl Engine {
    /// What a retry costs the budget (0 without one, or for a first attempt).
    pub(crate) fn retry_cost(&self, retry: Option<bool>) -> u32 {
        match (self.origins.budget, retry) {
            (Some(config), Some(no_answer)) if !self.is(Mutant::NoBudget) => config.cost(no_answer),
            _ => 0,
        }
    }

    /// How long until the origin's budget holds `cost` at monotonic time `at` (0: it does).
    pub(crate) fn budget_wait(&mut self, url: &str, cost: u32, at: Mono) -> u64 {
        match self.origins.budget {
            Some(config) if cost > 0 => self.origins.get(origin_of(url)).budget.wait_ms(&config, cost, at),
            _ => 0,
        }
    }

    /// Sends one attempt if the budget and the breaker let it (or asks for
    /// the probe lock first); else says why not and for how long.
    pub(crate) fn send_attempt(&mut self, now: Now, source: Source, s: Send) -> Result<Started, Refused> {
        let p = ProbeWait { io: Io(0), key: s.key.map(String::from), number: s.number, timeout_ms: s.timeout_ms, cost: self.retry_cost(s.retry) };
        self.admit(now, source, p, s.url, s.resumed, false)
    }

    /// The probe lock answered. Granted, the breaker is asked again (another
    /// tab's probe may have closed it, or opened it again, meanwhile);
    /// refused, another tab is probing.
    pub(crate) fn probe_locked(&mut self, now: Now, p: ProbeWait, granted: bool, source: Source, url: &str, resumed: bool) -> Result<Attempt, Refused> {
        if !granted {
            return Err(Refused::Breaker(PROBE_ELSEWHERE_MS));
        }
        match self.admit(now, source, p, url, resumed, true)? {
            Started::Sent(sent) => Ok(sent),
            // Locked already: admit never asks again.
            Started::Probing(_) => Err(Refused::Breaker(0)),
        }
    }

    /// The budget, then the breaker, then the probe lock where tabs share
    /// breakers (`locked`: this attempt holds it now), then the send.
    #[inline(never)]
    fn admit(&mut self, now: Now, source: Source, p: ProbeWait, url: &str, resumed: bool, locked: bool) -> Result<Started, Refused> {
        let origin = origin_of(url);
        // A lock taken for nothing (the breaker closed or opened again meanwhile) goes back.
        let unlock = |engine: &mut Engine| {
            if locked {
                engine.push(Action::Unlock { name: LockName::Probe(origin.into()) });
            }
        };
        let wait = self.budget_wait(url, p.cost, now.mono);
        let o = self.origins.get(origin);
        let (admission, transition) = match (wait, o.breaker.as_mut()) {
            (0, Some(breaker)) => breaker.admit(now.mono),
            (0, None) => (Admission::Allowed, None),
            (wait, _) => {
                unlock(self);
                // Jittered, as backoff is: clients whose buckets emptied in
                // the same outage refill together, and would resend together.
                return Err(Refused::Budget(wait + self.rng.up_to(wait)));
            }
        };
        let probe = match admission {
            Admission::Rejected { retry_in_ms } => {
                unlock(self);
                return Err(Refused::Breaker(retry_in_ms));
            }
            admission => admission == Admission::Probe,
        };
        // The lock this tab kept through the cooldown its last probe opened.
        let held = locked || (probe && self.take_held_probe(origin));
        if probe && !held && self.shared && !self.is(Mutant::ProbeWithoutLock) {
            // Not ours until the lock is: meanwhile another tab's news
            // (it probed, and opened again or closed) is taken as it comes.
            self.abandon_probe(origin);
            let io = self.io();
            self.push(Action::Lock { io, name: LockName::Probe(origin.into()), wait: false, step: Step::ProbeLock });
            return Ok(Started::Probing(ProbeWait { io, ..p }));
        }
        if !probe {
            unlock(self);
        }
        self.origins.get(origin).probe_held |= probe && held;
        self.breaker_event(origin, transition.or(if probe && locked { Some(Transition::HalfOpened) } else { None }));
        self.spend(now, origin, p.cost);
        let sent = Attempt { io: self.io(), timeout_at: now.mono + p.timeout_ms as f64, probe, probe_lock: probe && held, paid: p.cost };
        self.push(Action::Send { io: sent.io, source, key: p.key, timeout_ms: p.timeout_ms, attempt: p.number, resumed });
        Ok(Started::Sent(sent))
    }

    /// A probe lock that answered a task which no longer sends (aborted, closed).
    pub(crate) fn probe_unused(&mut self, url: &str, granted: bool) {
        if granted {
            self.push(Action::Unlock { name: LockName::Probe(origin_of(url).into()) });
        }
    }

    /// The attempt to `url` ended with `outcome`: the breaker hears it, and
    /// a definitive answer pays the budget back. False when it failed while
    /// the device is offline: that says nothing of the server, and counts
    /// for nothing.
    pub(crate) fn judge_attempt(&mut self, now: Now, a: Attempt, url: &str, outcome: &Outcome) -> bool {
        if !matches!(outcome, Outcome::Response { .. }) && !self.online {
            self.give_back(a, url);
            return false;
        }
        let origin = origin_of(url);
        let definitive = outcome.retry_reason(&self.options.policy.retry_on).is_none();
        self.breaker_verdict(now, origin, definitive);
        if definitive {
            // AWS's refund: a retry's cost back, or one token for a first attempt.
            self.refund(now, origin, if a.paid > 0 { a.paid } else { 1 });
        }
        if a.probe_lock {
            // Failed, the lock is kept until the cooldown it opened ends: no
            // tab that has not heard yet can take it and probe early.
            let o = self.origins.get(origin);
            match o.breaker.as_ref().map(|b| b.state()) {
                Some(BreakerState::Open { until }) if o.probe_held && !self.closed => o.release_at = Some(until),
                _ => self.let_go_probe(origin),
            }
        }
        true
    }

    /// Takes the probe lock this tab kept, if it did.
    fn take_held_probe(&mut self, origin: &str) -> bool {
        let o = self.origins.get(origin);
        o.release_at = None;
        o.probe_held
    }

    /// Gives the origin's probe lock back (once: closing may have already).
    pub(crate) fn let_go_probe(&mut self, origin: &str) {
        let o = self.origins.get(origin);
        if o.probe_held {
            (o.probe_held, o.release_at) = (false, None);
            self.push(Action::Unlock { name: LockName::Probe(origin.into()) });
        }
    }

    /// Probe locks kept through a cooldown that has ended (all of them when
    /// `now` is None: closing, or back online) are given back.
    pub(crate) fn release_probes(&mut self, now: Option<Mono>) {
        for origin in self.origins.release_probes(now) {
            self.push(Action::Unlock { name: LockName::Probe(origin) });
        }
    }

    /// An attempt that ended without a verdict (aborted, closed): a probe
    /// is given back for another to take.
    pub(crate) fn give_back(&mut self, a: Attempt, url: &str) {
        let origin = origin_of(url);
        if a.probe {
            self.abandon_probe(origin);
        }
        if a.probe_lock {
            self.let_go_probe(origin);
        }
    }

    fn abandon_probe(&mut self, origin: &str) {
        if let Some(breaker) = self.origins.get(origin).breaker.as_mut() {
            breaker.on_abandon();
        }
    }

    /// Stops waiting for an attempt; its key lingers until its fetch ends.
    pub(crate) fn cancel_attempt(&mut self, a: &Attempt, key: Option<&str>) {
        self.push(Action::Cancel { io: a.io });
        if let (Some(key), false) = (key, self.is(Mutant::NoLinger)) {
            self.lingering.push((a.io, key.to_string()));
        }
    }

    /// Whether a cancelled attempt of `key` may still be on the wire.
    pub(crate) fn is_lingering(&self, key: &str) -> bool {
        self.lingering.iter().any(|(_, k)| k == key)
    }

    /// The fetch of cancelled attempt `io` ended (answered or failed; the
    /// host drops what it got). Its key is free: whoever waits for it goes.
    pub(crate) fn linger_ended(&mut self, now: Now, io: Io) -> bool {
        let Some(i) = self.lingering.iter().position(|(x, _)| *x == io) else {
            return false;
        };
        let (_, key) = self.lingering.swap_remove(i);
        if !self.is_lingering(&key) {
            self.linger_over(&key);
            let blocked = |t: &Task| matches!(t, Task::Call(c) if c.blocked_on(&key));
            self.each_task(now, blocked, |engine, task, now| match task {
                Task::Call(c) => engine.key_freed(now, c),
                _ => true,
            });
            // A stored record of it may be due: look.
            if self.persistent {
                self.kick();
            }
        }
        true
    }

    /// The host's span for attempt `io` (a W3C trace context): kept with
    /// the operation's record, so a resend by a later page links to it.
    pub fn traced(&mut self, io: Io, trace: &str) {
        if !crate::core::record::is_trace_context(trace) {
            return;
        }
        let record = self.tasks.iter_mut().find_map(|t| match t {
            Task::Call(c) if c.sending() == Some(io) => c.record_mut(),
            Task::Resend(r) if r.sending() == Some(io) => r.record_mut(),
            _ => None,
        });
        if let Some(record) = record.filter(|r| r.trace.is_none()) {
            record.trace = Some(trace.into());
        }
    }

    pub(crate) fn breaker_event(&mut self, origin: &str, transition: Option<Transition>) {
        if let Some(state) = transition {
            self.emit(EventKind::Breaker, || Event::Breaker { origin: origin.to_string(), state });
        }
    }
}
