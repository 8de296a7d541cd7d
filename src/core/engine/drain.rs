//! Background resends of stored operations: after a reload or a crash,
//! back online, or a call that ended 'queued'.
//!
//! One round at a time among the clients sharing a store (the drain lock):
//! list the store, set aside what cannot be read, plan (one record per
//! origin, oldest first; expired ones removed), then resend and expire, each
//! under its key's lock. A round decides when the next one runs: at once if
//! it got anywhere, at the earliest due time otherwise, soon when another
//! context held a key, and when a send that records wait behind ends here
//! (it has no time of its own: without this, a record queued behind a
//! live call stalled until something else woke the drainer). Rounds may
//! belong to a forced pass (pass.rs): `resume()`, 'online', `drain()`.

#[allow(unused_imports)]
use crate::prelude::*;
use super::pass::{Pass, PassCaller};
use super::{Action, Done, Engine, Event, Io, LockName, Mono, Mutant, Now, Step, Stored, Task};
use crate::core::contract::{EventKind, StoreAction};
use crate::core::sort::{search, sorted_order};
use crate::core::outbox::plan;
use crate::core::record::Record;

/// How long to wait before listing a store that just failed.
pub(crate) const STORE_RETRY_MS: f64 = 5_000.0;
/// How long to wait when every ready record's key is locked elsewhere:
/// looking again at once would spin.
pub(crate) const LOCKED_RETRY_MS: f64 = 250.0;

#[derive(Default)]
pub(crate) struct Drainer {
    phase: Phase,
    /// Something happened during the round that the next one must see.
    pub(crate) again: bool,
    /// A forced pass asked for: it starts at the next plan.
    pub(crate) asked: bool,
    /// The forced pass under way (pass.rs).
    pub(crate) pass: Option<Pass>,
    /// `drain()` callers waiting for a pass to end.
    pub(crate) callers: Vec<PassCaller>,
    wake_at: Option<Mono>,
    waits_for_busy: bool,
    /// Unreadable records reported and left in place (the store cannot move them).
    reported: Vec<String>,
}

/// What one of a round's tasks (a resend, an expiry) did with its record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Handled {
    /// Its key was locked elsewhere: left to whoever holds it.
    LeftToHolder,
    /// Looked at under its key's lock: sent and stored again, deferred,
    /// not due, or found gone.
    #[default]
    Looked,
    /// Its record is deleted: it settled (a resend) or expired (an expiry).
    Removed,
}

#[derive(Default)]
enum Phase {
    #[default]
    Idle,
    Locking(Io),
    Listing(Io),
    /// Setting unreadable records aside, one at a time.
    Quarantining {
        io: Io,
        listing: Io,
        queue: Vec<Unreadable>,
        records: Vec<Record>,
    },
    Working {
        outstanding: u32,
        /// A task looked at its record (else every key was locked elsewhere).
        progressed: bool,
        /// A task left its key to the context holding it.
        left_to_holder: bool,
        plan_wake: Option<Mono>,
        had_ready: bool,
        /// Operations left in the store: those listed, but for expiries
        /// that removed theirs.
        remaining: u32,
        /// Per origin being resent: the key in flight, and the keys due
        /// behind it (the next one last), sent as each before settles.
        queues: Vec<(String, Vec<String>)>,
        /// The records as listed, for the NoRereadUnderLock mutant only.
        listed: Vec<Record>,
    },
}

struct Unreadable {
    index: u32,
    label: String,
    reason: crate::core::record::DecodeError,
}

impl Drainer {
    pub fn awaits(&self, io: Io) -> bool {
        match self.phase {
            Phase::Locking(x) | Phase::Listing(x) => x == io,
            Phase::Quarantining { io: x, .. } => x == io,
            _ => false,
        }
    }

    pub fn wake_at(&self) -> Option<Mono> {
        self.wake_at
    }

    /// The client closed: no more rounds, no wake-ups.
    pub fn stop(&mut self) {
        self.wake_at = None;
        self.again = false;
    }

    pub fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }
}

fn earliest(a: Option<Mono>, b: Mono) -> Mono {
    a.map_or(b, |a| a.min(b))
}

impl Engine {
    /// Starts a round, or asks the running one to be followed by another.
    pub(crate) fn kick(&mut self) {
        if self.closed {
            return;
        }
        if !self.drain.is_idle() || !self.may_round() {
            // Offline, 'online' forces a pass.
            self.drain.again = true;
            return;
        }
        self.start_round();
    }

    /// Rounds run online; offline, only to tell `drain()` callers what is stored.
    fn may_round(&self) -> bool {
        self.online || !self.drain.callers.is_empty()
    }

    /// Look again after a while, whatever else happens.
    pub(crate) fn drain_soon(&mut self, now: Now) {
        if self.closed {
            return;
        }
        let at = now.mono + STORE_RETRY_MS;
        self.drain.wake_at = Some(self.drain.wake_at.map_or(at, |w| w.min(at)));
    }

    /// A round at `at` (monotonic) at the latest.
    pub(crate) fn drain_at(&mut self, at: Mono) {
        if !self.closed {
            self.drain.wake_at = Some(earliest(self.drain.wake_at, at));
        }
    }

    pub(crate) fn drain_wake(&mut self, _now: Now) {
        self.drain.wake_at = None;
        self.kick();
    }

    /// A call or resend ended: records waiting behind it may go now.
    pub(crate) fn busy_ended(&mut self, _now: Now) {
        if self.drain.waits_for_busy && !self.is(Mutant::NoWakeAfterBusy) {
            self.drain.waits_for_busy = false;
            self.kick();
        }
    }

    fn start_round(&mut self) {
        self.drain.wake_at = None;
        self.drain.again = false;
        let io = self.io();
        self.push(Action::Lock { io, name: LockName::Drain, wait: true, step: Step::DrainLock });
        self.drain.phase = Phase::Locking(io);
    }

    pub(crate) fn drain_io(&mut self, now: Now, io: Io, done: Done) {
        match (::core::mem::take(&mut self.drain.phase), done) {
            (Phase::Locking(_), Done::Locked(granted)) => {
                if !granted {
                    return self.end_round(now, false, Some(now.mono + LOCKED_RETRY_MS));
                }
                if self.closed || !self.may_round() {
                    return self.end_round(now, true, None);
                }
                let io = self.io();
                self.push(Action::List { io, step: Step::DrainList });
                self.drain.phase = Phase::Listing(io);
            }
            (Phase::Listing(_), Done::Listed(Err(()))) => {
                self.listing_failed(now, io);
                self.end_round(now, true, Some(now.mono + STORE_RETRY_MS));
            }
            (Phase::Listing(_), Done::Listed(Ok(values))) => {
                let mut records = Vec::with_capacity(values.len());
                let mut queue = Vec::new();
                let ttl = self.options.ttl_ms as f64;
                for (index, value) in values.into_iter().enumerate() {
                    match value {
                        Stored::Record(r) => records.push(r),
                        #[cfg(feature = "workflows")]
                        Stored::Run(meta) => self.found_run(now, meta),
                        Stored::Other => {}
                        // Unread past the TTL: the answer goes.
                        Stored::Result(kept) if kept.settled_at + ttl <= now.wall => {
                            let io = self.io();
                            self.forget(io, kept.key);
                        }
                        Stored::Result(_) => {}
                        Stored::Unreadable { key, error } => {
                            let label = key.unwrap_or_else(|| "(no key)".into());
                            if !self.drain.reported.contains(&label) {
                                queue.push(Unreadable { index: index as u32, label, reason: error });
                            }
                        }
                    }
                }
                // `result(key)` callers whose operation is no longer a record
                // here (settled or expired by another context, which may have
                // no way to tell us) read it again.
                let gone: Vec<String> = self
                    .result_waiters
                    .iter()
                    .filter(|w| !records.iter().any(|r| r.key == w.key))
                    .map(|w| w.key.clone())
                    .collect();
                for key in gone {
                    self.wake_results(now, &key);
                }
                queue.reverse();
                self.next_quarantine(now, io, queue, records);
            }
            (Phase::Quarantining { listing, mut queue, records, .. }, Done::Quarantined(result)) => {
                let moved = match result {
                    Ok(moved) => moved,
                    Err(()) => {
                        self.store_error(now, StoreAction::Quarantine, io);
                        false
                    }
                };
                if let Some(done) = queue.pop() {
                    if !moved {
                        self.drain.reported.push(done.label.clone());
                    }
                    let (key, reason) = (done.label, done.reason);
                    self.emit(EventKind::Store, || Event::Quarantined { key, reason, moved });
                }
                self.next_quarantine(now, listing, queue, records);
            }
            (phase, done) => {
                self.drain.phase = phase;
                self.drop_late(io, &done);
            }
        }
    }

    /// A run found in the store: resumed here if it is running a workflow
    /// this client knows (and no other context runs it); removed once its
    /// TTL has passed after it ended.
    #[cfg(feature = "workflows")]
    pub(crate) fn found_run(&mut self, now: Now, meta: crate::core::journal::RunMeta) {
        self.note_run(&meta);
        let ended = meta.state != crate::core::journal::RunState::Running;
        if ended && meta.created_at + self.options.ttl_ms as f64 <= now.wall {
            let io = self.io();
            self.forget(io, crate::core::journal::run_key(&meta.id));
        } else if !ended && !self.closed && self.options.workflows.contains(&meta.name) {
            self.resume_run(now, meta);
        }
    }

    /// Quarantines the next unreadable value of `listing`, or plans the
    /// round once none is left. `queue` is in reverse order.
    fn next_quarantine(&mut self, now: Now, listing: Io, queue: Vec<Unreadable>, records: Vec<Record>) {
        if let Some(next) = queue.last() {
            let io = self.io();
            self.push(Action::Quarantine { io, listing, index: next.index, reason: next.reason });
            self.drain.phase = Phase::Quarantining { io, listing, queue, records };
            return;
        }
        self.push(Action::Release { io: listing });
        self.plan_round(now, records);
    }

    fn plan_round(&mut self, now: Now, records: Vec<Record>) {
        if self.closed {
            return self.end_round(now, true, None);
        }
        self.begin_pass();
        if !self.online {
            // Nothing goes; `drain()` callers hear what stays.
            self.end_pass(records.len() as u32);
            return self.end_round(now, true, None);
        }
        // Sorted once, searched per record: a round costs O(n log n) with
        // thousands of records and calls, not records × calls.
        let mut busy_keys: Vec<&str> = self.lingering.iter().map(|(_, k)| k.as_str()).collect();
        busy_keys.extend(self.tasks.iter().filter_map(|t| match t {
            Task::Call(c) => c.key.as_deref(),
            Task::Resend(r) => Some(r.key.as_str()),
            _ => None,
        }));
        let busy_key = |i: usize| busy_keys.get(i).copied().unwrap_or("");
        let busy_order = sorted_order(busy_keys.len(), |a, b| busy_key(a) < busy_key(b));
        let busy = |key: &str| search(&busy_order, |i| busy_key(i).cmp(key)).is_some();
        let drain = &self.drain;
        let forced = |key: &str| drain.pass.as_ref().is_some_and(|p| p.forces(key));
        let round = plan(&records, now.wall, self.options.ttl_ms, forced, busy);
        self.drain.waits_for_busy = round.waits_for_busy;
        let outstanding = (round.expired.len() + round.ready.len()) as u32;
        let had_ready = !round.ready.is_empty();
        // The plan's due times are on the wall clock; the timer is not.
        let plan_wake = round.wake_at.map(|at| now.mono_of(at));
        let queues = round.ready.iter().cloned().zip(round.behind.into_iter().map(|mut b| {
            b.reverse();
            b
        }));
        let queues = queues.collect();
        let remaining = match (self.is(Mutant::ResentCountsAsDone), &self.drain.pass) {
            (true, Some(pass)) => records.iter().filter(|r| pass.forces(&r.key)).count(),
            _ => records.len(),
        } as u32;
        self.drain.phase = Phase::Working {
            outstanding,
            progressed: false,
            left_to_holder: false,
            plan_wake,
            had_ready,
            remaining,
            queues,
            listed: Vec::new(),
        };
        if outstanding == 0 {
            return self.finish_round(now);
        }
        for key in round.expired {
            self.spawn_expire(key);
        }
        // The heads of their origins' queues: a few, so looked up one by one.
        let mut records = records;
        for key in round.ready {
            let listed = records.iter().position(|r| r.key == key).map(|i| records.swap_remove(i));
            self.spawn_round_resend(key, listed);
        }
        if let (true, Phase::Working { listed, .. }) = (self.is(Mutant::NoRereadUnderLock), &mut self.drain.phase) {
            *listed = records;
        }
    }

    fn spawn_round_resend(&mut self, key: String, listed: Option<Record>) {
        let forced = self.drain.pass.as_mut().is_some_and(|p| p.take(&key));
        self.spawn_resend(key, forced, listed);
    }

    /// A round's resend ended. Settled, the next record of its origin goes
    /// now (its order kept, no new listing); otherwise the origin waits for
    /// the next round.
    pub(crate) fn round_resend_done(&mut self, now: Now, key: &str, did: Handled) {
        let settled = did == Handled::Removed;
        if settled {
            self.pass_settled();
        }
        if let Phase::Working { queues, .. } = &mut self.drain.phase {
            if let Some(i) = queues.iter().position(|(k, _)| k == key) {
                let next = match settled && !self.closed && self.online {
                    true => queues[i].1.pop(),
                    false => None,
                };
                match next {
                    Some(next) => {
                        queues[i].0 = next.clone();
                        let mut listed = None;
                        if let Phase::Working { progressed: p, listed: l, .. } = &mut self.drain.phase {
                            *p |= did != Handled::LeftToHolder;
                            listed = l.iter().position(|r| r.key == next).map(|i| l.swap_remove(i));
                        }
                        return self.spawn_round_resend(next, listed);
                    }
                    None => {
                        queues.swap_remove(i);
                    }
                }
            }
        }
        self.round_task_done(now, did);
    }

    /// One of the round's resends or expiries ended, having done `did`.
    pub(crate) fn round_task_done(&mut self, now: Now, did: Handled) {
        if let Phase::Working { outstanding, progressed, left_to_holder, remaining, .. } = &mut self.drain.phase {
            *outstanding = outstanding.saturating_sub(1);
            match did {
                Handled::LeftToHolder => *left_to_holder = true,
                Handled::Looked => *progressed = true,
                Handled::Removed => (*progressed, *remaining) = (true, remaining.saturating_sub(1)),
            }
            if *outstanding == 0 {
                self.finish_round(now);
            }
        }
    }

    fn finish_round(&mut self, now: Now) {
        let Phase::Working { progressed, left_to_holder, plan_wake, had_ready, remaining, .. } = self.drain.phase else {
            return;
        };
        let retry = now.mono + LOCKED_RETRY_MS;
        let wake = if !had_ready {
            // The forced pass is over: nothing more can go now. An expiry
            // another context holds the key of is looked at again soon.
            self.end_pass(remaining);
            if left_to_holder {
                Some(earliest(plan_wake, retry))
            } else {
                plan_wake
            }
        } else if progressed {
            Some(now.mono)
        } else {
            Some(earliest(plan_wake, retry))
        };
        self.end_round(now, true, wake);
    }

    fn end_round(&mut self, now: Now, locked: bool, wake: Option<Mono>) {
        if locked {
            self.push(Action::Unlock { name: LockName::Drain });
        }
        self.drain.phase = Phase::Idle;
        if self.closed {
            return;
        }
        if (self.drain.again || wake.is_some_and(|w| w <= now.mono)) && self.may_round() {
            return self.start_round();
        }
        // A drain_soon() during the round still holds.
        self.drain.wake_at = match (wake, self.drain.wake_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}
