//! One background attempt of one stored operation.
//!
//! Under its key's lock, and after reading the record again under that lock
//! (whoever sent it last may have settled it or pushed its next attempt
//! back), one attempt is sent, as the breaker allows. A definitive answer
//! is reported, then the record deleted; a transient one is written back
//! with when to try next. A call with the same key arriving meanwhile joins
//! it and gets its result.

#[allow(unused_imports)]
use crate::prelude::*;
use super::attempt::{Attempt, ProbeWait, Refused, Send, Started};
use super::drain::Handled;
use super::lock::Held;
use super::{
    Action, AttemptEnd, CallId, Cause, Done, Engine, Event, Failure, Io, LockName, Mono, Mutant, Now, Source, Step, Stored,
    Task,
};
use crate::core::contract::{ErrorKind, EventKind, QueueReason, StoreAction};
use crate::core::outbox::{after_resend, Resend as Decision};
use crate::core::outcome::{Outcome, RetryReason};
use crate::core::record::Record;

/// How long to wait before resending a record whose `beforeReplay` threw.
pub(crate) const REPLAY_RETRY_MS: f64 = 5_000.0;

pub(crate) struct Resend {
    pub key: String,
    /// This round may skip our own backoff (never the server's).
    pub forced: bool,
    /// The record as the round listed it (read again under the lock).
    listed: Option<Record>,
    record: Option<Record>,
    callers: Vec<CallId>,
    /// Callers that are workflow steps' requests (call.rs `steps`).
    steps: Vec<CallId>,
    lock: Held,
    /// What it did, for its round.
    pub did: Handled,
    phase: Phase,
}

enum Phase {
    Locking(Io),
    Reading(Io),
    Sending(Attempt),
    /// Its attempt is the origin's probe: waiting for the probe lock.
    Probing(ProbeWait),
    /// Writing the record back; then `then` is told.
    Saving {
        io: Io,
        then: Then,
    },
    /// After a definitive answer; `deliver` it after the delete only for
    /// the DeleteBeforeSettled mutant.
    Deleting {
        io: Io,
        deliver: Option<(Io, u16, u32)>,
    },
}

#[derive(Clone, Copy)]
enum Then {
    /// Not sent (the breaker, the budget): it waits for its next attempt.
    Deferred(QueueReason),
    Retry { attempt: u32, delay_ms: u64, reason: RetryReason, status: Option<u16> },
    ReplayFailed { cause: Io },
}

impl Resend {
    pub fn sending(&self) -> Option<Io> {
        match &self.phase {
            Phase::Sending(a) => Some(a.io),
            _ => None,
        }
    }

    pub fn awaits(&self, io: Io) -> bool {
        match self.phase {
            Phase::Locking(x) | Phase::Reading(x) => x == io,
            Phase::Saving { io: x, .. } | Phase::Deleting { io: x, .. } => x == io,
            Phase::Probing(ref p) => p.io == io,
            Phase::Sending(_) => false,
        }
    }

    /// The record while an attempt of it is out.
    pub fn record_mut(&mut self) -> Option<&mut Record> {
        self.record.as_mut()
    }

    pub fn wake_at(&self) -> Option<Mono> {
        match &self.phase {
            Phase::Sending(a) => Some(a.timeout_at),
            _ => None,
        }
    }

    /// Answered, and only deleting its record.
    pub fn settled(&self) -> bool {
        matches!(self.phase, Phase::Deleting { deliver: None, .. })
    }

    /// Who waits on it, and the fingerprint a joining call must match.
    pub fn joinable(&mut self) -> Option<(&mut Vec<CallId>, &mut Vec<CallId>, &str)> {
        let fingerprint = self.record.as_ref()?.fingerprint.as_str();
        Some((&mut self.callers, &mut self.steps, fingerprint))
    }
}

impl Engine {
    pub(crate) fn spawn_resend(&mut self, key: String, forced: bool, listed: Option<Record>) {
        let io = self.io();
        self.push(Action::Lock { io, name: LockName::Key(key.to_string()), wait: false, step: Step::ResendLock });
        let listed = if self.is(Mutant::NoRereadUnderLock) { listed } else { None };
        self.tasks.push(Task::Resend(Resend {
            key,
            forced,
            listed,
            record: None,
            callers: Vec::new(),
            steps: Vec::new(),
            lock: Held::default(),
            did: Handled::Looked,
            phase: Phase::Locking(io),
        }));
    }

    pub(crate) fn resend_io(&mut self, now: Now, r: &mut Resend, io: Io, done: Done) -> bool {
        match (&r.phase, done) {
            (Phase::Locking(_), Done::Locked(granted)) => {
                r.lock = Held::new(LockName::Key(r.key.clone()), granted);
                if !granted && !self.is(Mutant::ResendBesideLiveCall) {
                    r.did = Handled::LeftToHolder;
                    return false;
                }
                if self.closed {
                    return self.resend_done(now, r);
                }
                if let Some(listed) = r.listed.take() {
                    return self.resend_send(now, r, listed);
                }
                let io = self.io();
                self.push(Action::Get { io, key: r.key.clone(), step: Step::ResendReread });
                r.phase = Phase::Reading(io);
                true
            }
            (Phase::Reading(_), Done::Got(result)) => match result {
                Ok(Some(Stored::Record(record))) => self.resend_send(now, r, record),
                Ok(other) => {
                    self.drop_kept(io, &other);
                    self.resend_done(now, r)
                }
                Err(()) => {
                    self.store_error(now, StoreAction::Get, io);
                    self.resend_done(now, r)
                }
            },
            (Phase::Probing(_), Done::Locked(granted)) => {
                let (Phase::Probing(p), Some(record)) = (::core::mem::replace(&mut r.phase, Phase::Locking(io)), r.record.take()) else {
                    return self.resend_done(now, r);
                };
                if self.closed {
                    self.probe_unused(&record.url, granted);
                    return self.resend_done(now, r);
                }
                let source = Source::Record(Box::new(record.clone()));
                let started = self.probe_locked(now, p, granted, source, &record.url, true);
                self.resend_started(now, r, record, started.map(Started::Sent))
            }
            (&Phase::Saving { then, .. }, Done::Wrote(result)) => {
                if result.is_err() {
                    self.store_error(now, StoreAction::Put, io);
                }
                self.resend_then(now, r, then);
                self.resend_done(now, r)
            }
            (&Phase::Deleting { deliver, .. }, Done::Wrote(result)) => {
                if result.is_err() {
                    self.store_error(now, StoreAction::Delete, io);
                }
                if let Some((response, status, attempts)) = deliver {
                    self.deliver(r, response, status, attempts, false);
                }
                let key = r.key.clone();
                self.wake_results(now, &key);
                self.resend_done(now, r)
            }
            (_, done) => {
                self.drop_late(io, &done);
                true
            }
        }
    }

    /// Sends the record now if it is due and its origin's breaker lets it.
    fn resend_send(&mut self, now: Now, r: &mut Resend, record: Record) -> bool {
        let due_at = if r.forced { record.not_before } else { record.next_attempt_at.max(record.not_before) };
        let live_here = !self.is(Mutant::ResendBesideLiveCall)
            && self.tasks.iter().any(|t| matches!(t, Task::Call(c) if c.key.as_deref() == Some(r.key.as_str())));
        // Past its TTL (a record queued behind others in a long round): the
        // next round's plan expires it.
        let expired = record.expired_at.is_some() || record.created_at + self.options.ttl_ms as f64 <= now.wall;
        // A cancelled attempt of it may still be on the wire: not twice at once.
        let lingering = self.is_lingering(&r.key);
        if due_at > now.wall || live_here || lingering || expired || self.closed || !self.online {
            return self.resend_done(now, r);
        }
        let key = record.key.clone();
        let send = Send {
            key: Some(&key),
            url: &record.url,
            number: record.attempts + 1,
            resumed: true,
            timeout_ms: self.options.policy.attempt_timeout_ms,
            retry: (record.attempts > 0).then_some(record.no_answer),
        };
        let started = self.send_attempt(now, Source::Record(Box::new(record.clone())), send);
        self.resend_started(now, r, record, started)
    }

    /// Its attempt went out, waits for the probe lock, or was refused (it
    /// is written back with when to try: the breaker's, or the budget's).
    fn resend_started(&mut self, now: Now, r: &mut Resend, mut record: Record, started: Result<Started, Refused>) -> bool {
        match started {
            Ok(Started::Sent(attempt)) => {
                r.record = Some(record);
                r.phase = Phase::Sending(attempt);
                true
            }
            Ok(Started::Probing(wait)) => {
                r.record = Some(record);
                r.phase = Phase::Probing(wait);
                true
            }
            Err(refused) => {
                let (ms, reason) = match refused {
                    Refused::Breaker(ms) => (ms, QueueReason::CircuitOpen),
                    Refused::Budget(ms) => (ms, QueueReason::Budget),
                };
                record.next_attempt_at = now.wall + ms.max(1) as f64;
                self.resend_save(r, record, Then::Deferred(reason), Step::ResendDeferred)
            }
        }
    }

    pub(crate) fn resend_attempt_ended(&mut self, now: Now, r: &mut Resend, io: Io, end: AttemptEnd) -> bool {
        let Some(mut record) = r.record.take() else {
            return self.resend_done(now, r);
        };
        let Phase::Sending(attempt) = ::core::mem::replace(&mut r.phase, Phase::Locking(io)) else {
            return self.resend_done(now, r);
        };
        let (outcome, held) = match end {
            AttemptEnd::Outcome { outcome, held } => (outcome, held),
            AttemptEnd::Cancelled => {
                self.give_back(attempt, &record.url);
                self.reject_joiners(now, r, ErrorKind::Closed, None, record.attempts);
                return self.resend_done(now, r);
            }
            AttemptEnd::BeforeReplay => {
                self.give_back(attempt, &record.url);
                record.next_attempt_at = now.wall + REPLAY_RETRY_MS;
                return self.resend_save(r, record, Then::ReplayFailed { cause: io }, Step::ResendDeferred);
            }
        };
        if !self.judge_attempt(now, attempt, &record.url, &outcome) {
            // Failed while offline: the device's failure, not counted. It
            // stays as it was, for when the network is back.
            if held {
                self.push(Action::Release { io });
            }
            self.reject_joiners(now, r, ErrorKind::Queued, Some(QueueReason::Offline), record.attempts);
            return self.resend_done(now, r);
        }
        let attempt = record.attempts + 1;
        record.attempts = attempt;
        match after_resend(&self.options.policy, attempt, &outcome, now.wall, &mut self.rng) {
            Decision::Settle => {
                r.did = Handled::Removed;
                let status = outcome.status().unwrap_or(0);
                if self.is(Mutant::DeleteBeforeSettled) {
                    let deliver = Some((io, status, attempt));
                    let io = self.io();
                    self.push(Action::Delete { io, key: r.key.clone(), step: Step::ResendSettled });
                    r.phase = Phase::Deleting { io, deliver };
                    return true;
                }
                // Reported before the record goes (see call.rs). Nobody asked
                // for this answer: it is kept, over the record, for
                // `client.result(key)` (a call that joined got it instead).
                let keep = r.callers.is_empty();
                self.deliver(r, io, status, attempt, keep);
                let key = r.key.clone();
                let write = if keep {
                    self.keep_answer(now, key, status, attempt, io)
                } else {
                    let write = self.io();
                    self.push(Action::Delete { io: write, key, step: Step::ResendSettled });
                    write
                };
                r.phase = Phase::Deleting { io: write, deliver: None };
                true
            }
            Decision::RetryAt { next_attempt_at, not_before, delay_ms, reason } => {
                if held {
                    self.push(Action::Release { io });
                }
                record.next_attempt_at = next_attempt_at;
                record.not_before = not_before;
                record.no_answer = !matches!(outcome, Outcome::Response { .. });
                let then = Then::Retry { attempt, delay_ms, reason, status: outcome.status() };
                self.resend_save(r, record, then, Step::ResendProgress)
            }
        }
    }

    pub(crate) fn resend_timer(&mut self, now: Now, r: &mut Resend) -> bool {
        match &r.phase {
            Phase::Sending(a) if a.timeout_at <= now.mono => {
                let io = a.io;
                self.cancel_attempt(a, Some(&r.key));
                self.resend_attempt_ended(now, r, io, AttemptEnd::Outcome { outcome: Outcome::Timeout, held: false })
            }
            _ => true,
        }
    }

    /// Close: background resends in flight are cancelled.
    pub(crate) fn cancel_resends(&mut self, now: Now) {
        let sending = |t: &Task| matches!(t, Task::Resend(r) if r.sending().is_some());
        self.each_task(now, sending, |engine, task, now| match task {
            Task::Resend(r) => match &r.phase {
                Phase::Sending(a) => {
                    let io = a.io;
                    engine.cancel_attempt(a, Some(&r.key));
                    engine.resend_attempt_ended(now, r, io, AttemptEnd::Cancelled)
                }
                _ => true,
            },
            _ => true,
        });
    }

    /// The answer goes to the 'settled' listeners (nobody else asked for
    /// it, unless calls joined), then to the joined calls.
    /// `kept`: the response is kept after (that is its last use).
    fn deliver(&mut self, r: &mut Resend, response: Io, status: u16, attempts: u32, kept: bool) {
        let listening = self.listens(EventKind::Settled);
        let callers: Vec<CallId> = r.callers.drain(..).collect();
        let uses = callers.len() + listening as usize + kept as usize;
        if listening {
            let key = Some(r.key.clone());
            let response = Some((response, callers.is_empty() && !kept));
            self.push(Action::Emit(Event::Settled { key, status, attempts, resumed: true, response }));
        }
        for (i, call) in callers.iter().enumerate() {
            self.push(Action::Resolve { call: *call, response, last: i + 1 == callers.len() && !kept });
        }
        if uses == 0 {
            self.push(Action::Release { io: response });
        }
    }

    fn resend_save(&mut self, r: &mut Resend, record: Record, then: Then, step: Step) -> bool {
        let io = self.io();
        self.push(Action::Put { io, record: Box::new(record.clone()), step });
        r.record = Some(record);
        r.phase = Phase::Saving { io, then };
        true
    }

    /// The record is written back: it stays for a later retry.
    fn resend_then(&mut self, now: Now, r: &mut Resend, then: Then) {
        self.want_sync();
        let attempts = r.record.as_ref().map_or(0, |rec| rec.attempts);
        match then {
            Then::Deferred(reason) => self.reject_joiners(now, r, ErrorKind::Queued, Some(reason), attempts),
            Then::Retry { attempt, delay_ms, reason, status } => {
                let key = Some(r.key.clone());
                self.emit(EventKind::Retry, || Event::Retry { key, attempt, delay_ms, reason, status, resumed: true });
                self.reject_joiners(now, r, ErrorKind::Queued, Some(QueueReason::Exhausted), attempts);
            }
            Then::ReplayFailed { cause } => {
                let failure = Failure {
                    key: Some(r.key.clone()),
                    cause: Some(Cause::Io(cause)),
                    ..Failure::new(ErrorKind::BeforeReplay)
                };
                if self.listens(EventKind::Store) {
                    self.push(Action::Emit(Event::StoreError(failure)));
                } else {
                    self.push(Action::Release { io: cause });
                }
                self.reject_joiners(now, r, ErrorKind::BeforeReplay, None, attempts);
            }
        }
    }

    fn reject_joiners(&mut self, now: Now, r: &mut Resend, kind: ErrorKind, reason: Option<QueueReason>, attempts: u32) {
        if kind == ErrorKind::Queued {
            let key = r.key.clone();
            self.steps_wait(now, &mut r.callers, &mut r.steps, &key);
        }
        for call in r.callers.drain(..).collect::<Vec<_>>() {
            let failure = Failure { key: Some(r.key.clone()), attempts, reason, ..Failure::new(kind) };
            self.push(Action::Reject { call, failure });
        }
    }

    fn resend_done(&mut self, now: Now, r: &mut Resend) -> bool {
        self.reject_joiners(now, r, ErrorKind::Queued, Some(QueueReason::Exhausted), 0);
        self.release(&mut r.lock);
        false
    }
}
