//! A caller's `fetch`: from the call to its answer.
//!
//! An unkeyed call (GET) and a keyed call that is not durable go straight to
//! their attempts. A durable call is read back (a resubmission after a
//! reload continues its stored record), persisted, locked, and only then
//! sent; its progress is written after every transient outcome, and when
//! its live bounds end without a definitive answer it stays stored and
//! rejects 'queued' for the drainer to finish. A definitive answer is
//! reported ('settled', then the caller) before the record is deleted: if
//! the page dies in between, the next sender gets the server's replay and
//! reports it again. At least once, never never.
//!
//! Offline, a durable call is stored and queued at once, and a call that
//! cannot be stored waits for 'online' within its deadline; an attempt that
//! fails while offline counts neither toward maxAttempts nor the breaker.

#[allow(unused_imports)]
use crate::prelude::*;
use super::attempt::{Attempt, ProbeWait, Refused, Send, Started};
use super::lock::Held;
use super::{
    Action, Arg, AttemptEnd, CallId, CallRequest, Cause, CauseText, Done, Engine, Event, Failure, Io, LockName, Mono, Mutant, Now, PendingOp,
    Source, Step, Stored, Task, Wall,
};
use crate::core::contract::{ErrorKind, EventKind, GiveUpReason, QueueReason, StoreAction};
use crate::core::key::{choose_key, fingerprint, is_valid_key, origin_of, uuid_v4, KeyChoice};
use crate::core::options::{refused, Expect, OptionError};
use crate::core::outbox::{after_resend, Resend as ResendDecision};
use crate::core::outcome::Outcome;
use crate::core::record::{storable_headers, Record};
use crate::core::schedule::{Decision, RetryPolicy, Schedule};

pub(crate) struct Call {
    /// The caller first, then calls that joined it with the same key.
    pub callers: Vec<CallId>,
    pub key: Option<String>,
    pub fingerprint: String,
    method: String,
    url: String,
    durable: bool,
    record: Option<Record>,
    /// Callers that are workflow steps' requests: 'queued' is no answer for
    /// them, they wait for the operation to settle (kept.rs).
    pub steps: Vec<CallId>,
    schedule: Schedule,
    /// The previous attempt's payload, while the host holds one.
    last: Option<Io>,
    last_outcome: Option<Outcome>,
    lock: Held,
    /// The caller's signal fired: it ends at the next step it can.
    aborted: bool,
    created_at: Wall,
    /// Ended 'queued': when (monotonic) its record is due for the drainer.
    queued_due: Option<Mono>,
    phase: Phase,
}

enum Phase {
    Reading(Io),
    Persisting(Io),
    Locking(Io),
    /// A fresh key (no other context can know it): persisted and locked at
    /// once; sent when both are done.
    Starting {
        put: Io,
        lock: Io,
        wrote: Option<bool>,
        granted: Option<bool>,
    },
    Sending(Attempt),
    /// Its next attempt is the origin's probe: waiting for the probe lock.
    Probing(ProbeWait),
    /// An earlier attempt of its key, cancelled, may still be on the wire:
    /// the next one waits for it to end (attempt.rs), within the deadline.
    Blocked,
    /// Writing progress after a transient outcome; then waiting until `until`.
    Saving {
        io: Io,
        until: Mono,
        server_asked: bool,
    },
    Waiting {
        until: Mono,
        server_asked: bool,
    },
    /// Waiting for 'online' (a call that cannot be stored), until its deadline.
    Offline,
    /// The last store write; then `end` is told.
    Ending {
        io: Io,
        end: End,
    },
}

#[derive(Clone, Copy, Debug)]
enum End {
    /// Told before the delete (or after it, for the DeleteBeforeSettled mutant).
    Settled {
        response: Io,
        status: u16,
        attempts: u32,
    },
    Queued {
        reason: QueueReason,
        attempts: u32,
        status: Option<u16>,
        cause: Option<Io>,
    },
    Aborted {
        attempts: u32,
    },
    /// Already told.
    Told,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    Resume,
    Online,
    Close,
}

impl Call {
    pub fn sending(&self) -> Option<Io> {
        match &self.phase {
            Phase::Sending(a) => Some(a.io),
            _ => None,
        }
    }

    /// Waiting for a cancelled attempt of `key` to end.
    pub fn blocked_on(&self, key: &str) -> bool {
        matches!(self.phase, Phase::Blocked) && self.key.as_deref() == Some(key)
    }

    pub fn awaits(&self, io: Io) -> bool {
        match self.phase {
            Phase::Reading(x) | Phase::Persisting(x) | Phase::Locking(x) => x == io,
            Phase::Starting { put, lock, .. } => put == io || lock == io,
            Phase::Saving { io: x, .. } | Phase::Ending { io: x, .. } => x == io,
            Phase::Probing(ref p) => p.io == io,
            _ => false,
        }
    }

    /// Its record while an attempt is out (durable calls).
    pub fn record_mut(&mut self) -> Option<&mut Record> {
        self.record.as_mut()
    }

    pub fn wake_at(&self, policy: &RetryPolicy) -> Option<Mono> {
        match &self.phase {
            Phase::Sending(a) => Some(a.timeout_at),
            Phase::Waiting { until, .. } => Some(*until),
            Phase::Offline | Phase::Blocked => Some(self.schedule.deadline_at(policy)),
            _ => None,
        }
    }

    /// Answered, and only deleting its record.
    pub fn settled(&self) -> bool {
        matches!(self.phase, Phase::Ending { end: End::Told | End::Settled { .. }, .. })
    }

    pub fn pending(&self, key: &str) -> PendingOp {
        PendingOp {
            key: key.to_string(),
            method: self.method.clone(),
            url: self.url.clone(),
            attempts: self.schedule.attempts(),
            created_at: self.created_at,
            next_attempt_at: None,
            durable: false,
        }
    }

    fn failure(&self, kind: ErrorKind, attempts: u32) -> Failure {
        Failure {
            key: self.key.clone(),
            attempts,
            ..Failure::new(kind)
        }
    }
}

impl Engine {
    /// A caller's fetch. Refused at once (nothing done) when an argument is
    /// not what it accepts; everything else is answered through actions.
    pub fn call(&mut self, now: Now, mut req: CallRequest) -> Result<(), OptionError> {
        // A step's request: the step's key and its place in the step, whatever the caller set.
        #[cfg(feature = "workflows")]
        if let Some((step, n)) = &req.from_step {
            req.key = Arg::Given(step_request_key(step, *n));
        }
        let explicit = match ::core::mem::replace(&mut req.key, Arg::Absent) {
            Arg::Absent => None,
            Arg::Given(key) if is_valid_key(&key) => Some(key),
            _ => return Err(refused("idempotencyKey", Expect::Key)),
        };
        let asked_durable = match req.durable {
            Arg::Absent => None,
            Arg::Given(durable) => Some(durable),
            Arg::WrongType => return Err(refused("durable", Expect::Boolean)),
        };
        self.start_call(now, req, explicit, asked_durable);
        Ok(())
    }

    fn start_call(&mut self, now: Now, req: CallRequest, explicit: Option<String>, asked_durable: Option<bool>) {
        let (key, fresh_key) = match choose_key(&req.method, explicit, req.header_key) {
            KeyChoice::Given(key) => (Some(key), false),
            KeyChoice::Fresh => (Some(uuid_v4(req.random)), true),
            KeyChoice::None => (None, false),
        };
        if self.closed {
            return self.push(Action::Reject { call: req.call, failure: Failure::new(ErrorKind::Closed) });
        }
        if req.aborted {
            let failure = Failure { key, cause: Some(Cause::Signal), ..Failure::new(ErrorKind::Aborted) };
            return self.push(Action::Reject { call: req.call, failure });
        }
        let fingerprint = match &key {
            Some(_) => fingerprint(&req.method, &req.url, req.body.as_deref().unwrap_or_default()),
            None => String::new(),
        };
        if let Some(key) = &key {
            if self.join(key, &fingerprint, req.call, req.from_step.is_some()) {
                return;
            }
        }
        let durable = key.is_some() && self.is_durable(asked_durable);
        let record = match (&key, durable) {
            (Some(key), true) => Some(Record {
                key: key.clone(),
                method: req.method.clone(),
                url: req.url.clone(),
                headers: storable_headers(&req.headers, &self.options.redact_headers, &self.options.idempotency_header),
                body: req.body,
                fingerprint: fingerprint.clone(),
                attempts: 0,
                created_at: now.wall,
                seq: self.next_seq(),
                next_attempt_at: now.wall,
                not_before: Wall::EPOCH,
                expired_at: None,
                no_answer: false,
                trace: None,
            }),
            _ => None,
        };
        let mut callers = vec![req.call];
        // `result(key)` callers waiting for this key get this call's answer.
        if let Some(key) = key.as_ref().filter(|_| !self.result_waiters.is_empty()) {
            let (mine, rest): (Vec<_>, Vec<_>) = ::core::mem::take(&mut self.result_waiters).into_iter().partition(|w| w.key == *key);
            self.result_waiters = rest;
            callers.extend(mine.into_iter().map(|w| w.call));
        }
        let io = self.io();
        let mut call = Call {
            callers,
            key,
            fingerprint,
            method: req.method,
            url: req.url,
            durable,
            record,
            steps: if req.from_step.is_some() { vec![req.call] } else { Vec::new() },
            schedule: Schedule::new(now.mono),
            last: None,
            last_outcome: None,
            lock: Held::default(),
            aborted: false,
            created_at: now.wall,
            queued_due: None,
            phase: Phase::Reading(io),
        };
        match (durable, &call.key) {
            // A key drawn just now cannot be in the store: no read, and the
            // write and the lock go together.
            (true, Some(key)) if fresh_key && !self.is(Mutant::SendBeforePersist) => {
                let (put, lock) = (io, self.io());
                if let Some(record) = &call.record {
                    self.push(Action::Put { io: put, record: Box::new(record.clone()), step: Step::CallPersist });
                }
                self.push(Action::Lock { io: lock, name: LockName::Key(key.to_string()), wait: false, step: Step::CallLock });
                call.phase = Phase::Starting { put, lock, wrote: None, granted: None };
                self.tasks.push(Task::Call(call));
                return;
            }
            // The caller's key: it may name a stored operation (resubmitted
            // after a reload) that another context is sending or has just
            // settled. Lock first, then read: what is read under the lock
            // is current.
            (true, Some(key)) => {
                self.push(Action::Lock { io, name: LockName::Key(key.to_string()), wait: false, step: Step::CallLock });
                call.phase = Phase::Locking(io);
                self.tasks.push(Task::Call(call));
                return;
            }
            _ => {}
        }
        if self.next_attempt(now, &mut call) {
            self.tasks.push(Task::Call(call));
        }
    }

    /// Joins a call or a resend running here with the same key. The same
    /// key for a different request is refused.
    fn join(&mut self, key: &str, fingerprint: &str, caller: CallId, step: bool) -> bool {
        let running = self.tasks.iter_mut().find_map(|t| match t {
            Task::Call(c) if c.key.as_deref() == Some(key) => Some((&mut c.callers, &mut c.steps, c.fingerprint.as_str())),
            Task::Resend(r) if r.key == key && r.sending().is_some() => r.joinable(),
            _ => None,
        });
        let Some((callers, steps, running_fingerprint)) = running else {
            return false;
        };
        if running_fingerprint != fingerprint {
            let failure = Failure { key: Some(key.to_string()), ..Failure::new(ErrorKind::KeyReuse) };
            self.push(Action::Reject { call: caller, failure });
        } else {
            callers.push(caller);
            if step {
                steps.push(caller);
            }
        }
        true
    }

    pub(crate) fn call_io(&mut self, now: Now, c: &mut Call, io: Io, done: Done) -> bool {
        match (&c.phase, done) {
            (Phase::Reading(_), Done::Got(result)) => self.call_read(now, c, io, result),
            (&Phase::Starting { put, lock, mut wrote, mut granted }, done) => {
                match done {
                    Done::Wrote(result) if io == put => wrote = Some(result.is_ok()),
                    Done::Locked(g) if io == lock => granted = Some(g),
                    _ => {}
                }
                c.phase = Phase::Starting { put, lock, wrote, granted };
                let (Some(wrote), Some(granted)) = (wrote, granted) else {
                    return true;
                };
                c.lock = Held::new(LockName::Key(c.key.clone().unwrap_or_default()), granted);
                if !wrote {
                    return self.store_failed(now, c, StoreAction::Put, put);
                }
                if c.aborted {
                    return self.end_aborted(now, c);
                }
                if !granted {
                    return self.tell_queued(now, c, QueueReason::InFlightElsewhere, 0, None, None);
                }
                self.first_attempt(now, c)
            }
            (Phase::Persisting(_), Done::Wrote(Ok(()))) if c.aborted => self.end_aborted(now, c),
            (Phase::Persisting(_), Done::Wrote(Ok(()))) => self.first_attempt(now, c),
            (Phase::Persisting(_), Done::Wrote(Err(()))) => self.store_failed(now, c, StoreAction::Put, io),
            (Phase::Locking(_), Done::Locked(granted)) => {
                c.lock = Held::new(LockName::Key(c.key.clone().unwrap_or_default()), granted);
                if !granted {
                    if c.aborted {
                        self.reject_all(c, c.failure(ErrorKind::Aborted, 0));
                        return false;
                    }
                    // Another tab or worker is sending it now; it stays stored there.
                    return self.tell_queued(now, c, QueueReason::InFlightElsewhere, 0, None, None);
                }
                let io = self.io();
                let key = c.key.clone().unwrap_or_default();
                self.push(Action::Get { io, key, step: Step::CallRead });
                c.phase = Phase::Reading(io);
                true
            }
            (Phase::Probing(_), Done::Locked(granted)) => {
                let Phase::Probing(p) = ::core::mem::replace(&mut c.phase, Phase::Blocked) else { return true };
                if c.aborted || self.closed {
                    self.probe_unused(&c.url, granted);
                    c.schedule.forget_attempt();
                    return if c.aborted { self.end_aborted(now, c) } else { self.end_closed(now, c) };
                }
                let started = self.probe_locked(now, p, granted, Source::Call(c.callers[0]), &c.url, false);
                self.call_started(now, c, started.map(Started::Sent))
            }
            (&Phase::Saving { until, server_asked, .. }, Done::Wrote(result)) => {
                if result.is_err() {
                    self.store_error(now, StoreAction::Put, io);
                }
                if c.aborted {
                    return self.end_aborted(now, c);
                }
                c.phase = Phase::Waiting { until, server_asked };
                if self.closed {
                    return self.end_closed(now, c);
                }
                if until <= now.mono {
                    return self.next_attempt(now, c);
                }
                true
            }
            (&Phase::Ending { end, .. }, Done::Wrote(result)) => {
                if result.is_err() {
                    let action = if matches!(end, End::Queued { .. }) { StoreAction::Put } else { StoreAction::Delete };
                    self.store_error(now, action, io);
                }
                self.finish(now, c, end)
            }
            // A completion that does not fit the phase: drop what it holds.
            (_, done) => {
                self.drop_late(io, &done);
                true
            }
        }
    }

    /// The store failed this call before it sent anything: its callers get
    /// the failure. A record stored under its key before (a resubmission, a
    /// resumed workflow step) stays as it was, and a round looks at it again
    /// soon: a round that planned while this call held the key skipped it.
    fn store_failed(&mut self, now: Now, c: &mut Call, action: StoreAction, io: Io) -> bool {
        let mut failure = c.failure(ErrorKind::Storage, 0);
        (failure.action, failure.cause) = (Some(action), Some(Cause::Io(io)));
        failure.sent = (action == StoreAction::Put).then_some(false);
        self.reject_all(c, failure);
        self.release(&mut c.lock);
        self.drain_soon(now);
        false
    }

    fn call_read(&mut self, now: Now, c: &mut Call, io: Io, result: Result<Option<Stored>, ()>) -> bool {
        let key = c.key.clone().unwrap_or_default();
        match result {
            Err(()) => self.store_failed(now, c, StoreAction::Get, io),
            Ok(Some(Stored::Result(kept))) => {
                // Resubmitted after it settled in the background: its kept answer.
                let n = c.callers.len();
                for (i, call) in c.callers.drain(..).collect::<Vec<_>>().into_iter().enumerate() {
                    self.push(Action::Kept { call, held: Some(io), last: i + 1 == n });
                }
                let io = self.io();
                self.forget(io, kept.key);
                self.release(&mut c.lock);
                false
            }
            // A key cannot name a run (a run's store key has a space) or
            // another build's value: not this operation.
            #[cfg(feature = "workflows")]
            Ok(Some(Stored::Run(_))) => {
                self.reject_all(c, Failure { key: Some(key), ..Failure::new(ErrorKind::KeyReuse) });
                self.release(&mut c.lock);
                false
            }
            Ok(Some(Stored::Other)) => {
                self.reject_all(c, Failure { key: Some(key), ..Failure::new(ErrorKind::KeyReuse) });
                self.release(&mut c.lock);
                false
            }
            Ok(Some(Stored::Record(r))) if r.fingerprint == c.fingerprint => {
                // Resubmitted after a reload with the caller's key: continue it here.
                c.record = Some(r);
                if c.aborted {
                    return self.end_aborted(now, c);
                }
                self.first_attempt(now, c)
            }
            Ok(Some(Stored::Record(_))) => {
                self.reject_all(c, Failure { key: Some(key), ..Failure::new(ErrorKind::KeyReuse) });
                self.release(&mut c.lock);
                false
            }
            Ok(Some(Stored::Unreadable { error, .. })) => {
                let mut failure = c.failure(ErrorKind::Storage, 0);
                let cause = Cause::Text(CauseText::Unreadable, Some(error));
                (failure.action, failure.cause) = (Some(StoreAction::Get), Some(cause));
                self.reject_all(c, failure);
                self.release(&mut c.lock);
                false
            }
            Ok(None) => {
                if c.aborted {
                    self.reject_all(c, c.failure(ErrorKind::Aborted, 0));
                    self.release(&mut c.lock);
                    return false;
                }
                if self.is(Mutant::SendBeforePersist) {
                    return self.first_attempt(now, c);
                }
                let Some(record) = c.record.clone() else {
                    return false;
                };
                let io = self.io();
                self.push(Action::Put { io, record: Box::new(record), step: Step::CallPersist });
                c.phase = Phase::Persisting(io);
                true
            }
        }
    }

    /// Stored and locked: the live schedule starts now.
    fn first_attempt(&mut self, now: Now, c: &mut Call) -> bool {
        c.schedule = Schedule::new(now.mono);
        self.next_attempt(now, c)
    }

    /// Starts the next attempt, or ends the call if none may start.
    fn next_attempt(&mut self, now: Now, c: &mut Call) -> bool {
        if c.aborted {
            return self.end_aborted(now, c);
        }
        if self.closed {
            return self.end_closed(now, c);
        }
        if !self.online {
            return self.wait_for_network(now, c);
        }
        let policy = &self.options.policy;
        let plan = match c.schedule.begin_attempt(policy, now.mono) {
            Ok(plan) => plan,
            Err(give_up) => {
                let status = c.last_outcome.and_then(|o| o.status());
                return self.give_up(now, c, give_up.into(), c.schedule.attempts(), status, 0);
            }
        };
        if c.key.as_deref().is_some_and(|key| self.is_lingering(key)) {
            // Undone once the attempt in flight ends (key_freed).
            c.schedule.forget_attempt();
            c.phase = Phase::Blocked;
            return true;
        }
        let key = match (&c.key, self.is(Mutant::KeyPerAttempt)) {
            (Some(k), true) => Some([k.as_str(), "~", &plan.attempt.to_string()].concat()),
            (key, _) => key.clone(),
        };
        let send = Send {
            key: key.as_deref(),
            url: &c.url,
            number: plan.attempt,
            resumed: false,
            timeout_ms: plan.timeout_ms,
            retry: (plan.attempt > 1).then(|| no_answer(c.last_outcome)),
        };
        let started = self.send_attempt(now, Source::Call(c.callers[0]), send);
        self.call_started(now, c, started)
    }

    /// The next attempt went out, waits for the probe lock, or was refused.
    fn call_started(&mut self, now: Now, c: &mut Call, started: Result<Started, Refused>) -> bool {
        match started {
            Ok(Started::Sent(attempt)) => {
                if let Some(previous) = c.last.take() {
                    self.push(Action::Release { io: previous });
                }
                c.phase = Phase::Sending(attempt);
                true
            }
            Ok(Started::Probing(wait)) => {
                c.phase = Phase::Probing(wait);
                true
            }
            Err(refused) => {
                c.schedule.forget_attempt();
                let status = c.last_outcome.and_then(|o| o.status());
                let (reason, retry_in_ms) = match refused {
                    Refused::Breaker(ms) => (GiveUpReason::CircuitOpen, ms),
                    Refused::Budget(ms) => (GiveUpReason::Budget, ms),
                };
                let attempts = c.schedule.attempts();
                self.give_up(now, c, reason, attempts, status, retry_in_ms)
            }
        }
    }

    /// The cancelled attempt its key waited for ended.
    pub(crate) fn key_freed(&mut self, now: Now, c: &mut Call) -> bool {
        self.next_attempt(now, c)
    }

    /// Offline: a durable call stays stored for when the network is back;
    /// any other waits for it within its deadline.
    fn wait_for_network(&mut self, now: Now, c: &mut Call) -> bool {
        if c.durable {
            let cause = self.last_cause(c);
            return self.tell_queued(now, c, QueueReason::Offline, c.schedule.attempts(), None, cause);
        }
        if c.schedule.deadline_at(&self.options.policy) <= now.mono {
            let attempts = c.schedule.attempts();
            return self.give_up(now, c, GiveUpReason::Deadline, attempts, None, 0);
        }
        c.phase = Phase::Offline;
        true
    }

    pub(crate) fn call_attempt_ended(&mut self, now: Now, c: &mut Call, io: Io, end: AttemptEnd) -> bool {
        let (outcome, held) = match end {
            AttemptEnd::Outcome { outcome, held } => (outcome, held),
            // Calls have no replay hook; a cancel comes only with an abort.
            AttemptEnd::BeforeReplay => (Outcome::Network, true),
            AttemptEnd::Cancelled => return true,
        };
        let Phase::Sending(attempt) = ::core::mem::replace(&mut c.phase, Phase::Blocked) else {
            return true;
        };
        if !self.judge_attempt(now, attempt, &c.url, &outcome) {
            // The device's failure, not the server's: not counted.
            c.schedule.forget_attempt();
            if held {
                self.push(Action::Release { io });
            }
            return self.wait_for_network(now, c);
        }
        let policy = self.options.policy.clone();
        let attempt = c.schedule.attempts();
        c.last = held.then_some(io);
        c.last_outcome = Some(outcome);
        match c.schedule.after(&policy, &outcome, now.mono, &mut self.rng) {
            Decision::Settle => match outcome {
                Outcome::Response { status, .. } => {
                    c.last = None;
                    self.end_settled(now, c, io, status, attempt)
                }
                // Only an answer settles: network errors and timeouts are always retried.
                _ => self.give_up(now, c, GiveUpReason::Exhausted, attempt, None, 0),
            },
            Decision::GiveUp(give_up) => self.give_up(now, c, give_up.into(), attempt, outcome.status(), 0),
            Decision::Retry { delay_ms, reason, server_asked } => {
                // A retry the budget cannot pay by the end of the wait: end now, not after it.
                let cost = self.retry_cost(Some(no_answer(Some(outcome))));
                let short = self.budget_wait(&c.url, cost, now.mono + delay_ms as f64);
                if short > 0 {
                    return self.give_up(now, c, GiveUpReason::Budget, attempt, outcome.status(), delay_ms + short);
                }
                self.emit(EventKind::Retry, || Event::Retry {
                    key: c.key.clone(),
                    attempt,
                    delay_ms,
                    reason,
                    status: outcome.status(),
                    resumed: false,
                });
                let until = now.mono + delay_ms as f64;
                if let (true, Some(record)) = (c.durable, c.record.as_mut()) {
                    let next = now.wall + delay_ms as f64;
                    record.attempts = attempt;
                    record.next_attempt_at = next;
                    record.not_before = if server_asked { next } else { Wall::EPOCH };
                    record.no_answer = no_answer(Some(outcome));
                    let io = self.io();
                    self.push(Action::Put { io, record: Box::new(record.clone()), step: Step::CallProgress });
                    c.phase = Phase::Saving { io, until, server_asked };
                } else {
                    c.phase = Phase::Waiting { until, server_asked };
                }
                true
            }
        }
    }

    pub(crate) fn call_timer(&mut self, now: Now, c: &mut Call) -> bool {
        match &c.phase {
            Phase::Sending(a) if a.timeout_at <= now.mono => {
                let io = a.io;
                self.cancel_attempt_of(c);
                self.call_attempt_ended(now, c, io, AttemptEnd::Outcome { outcome: Outcome::Timeout, held: false })
            }
            Phase::Waiting { until, .. } if *until <= now.mono => self.next_attempt(now, c),
            Phase::Offline | Phase::Blocked if c.schedule.deadline_at(&self.options.policy) <= now.mono => {
                let attempts = c.schedule.attempts();
                let status = c.last_outcome.and_then(|o| o.status());
                self.give_up(now, c, GiveUpReason::Deadline, attempts, status, 0)
            }
            _ => true,
        }
    }

    /// Stops waiting for the attempt in flight (it stays `Sending` until judged).
    fn cancel_attempt_of(&mut self, c: &Call) {
        if let Phase::Sending(a) = &c.phase {
            self.cancel_attempt(a, c.key.as_deref());
        }
    }

    /// Returns (keep, woken).
    pub(crate) fn call_wake(&mut self, now: Now, c: &mut Call, wake: Wake) -> (bool, bool) {
        match (wake, &c.phase) {
            // resume() ends our own waits, never one the server asked for:
            // it said when, and earlier is refused.
            (Wake::Resume, Phase::Waiting { server_asked: false, .. }) => (self.next_attempt(now, c), true),
            (Wake::Online, Phase::Offline) => (self.next_attempt(now, c), false),
            (Wake::Close, Phase::Waiting { .. } | Phase::Offline | Phase::Blocked) => (self.end_closed(now, c), true),
            _ => (true, false),
        }
    }

    pub(crate) fn call_abort(&mut self, now: Now, c: &mut Call, caller: CallId) -> bool {
        if c.callers.first() != Some(&caller) {
            // A joiner gives up waiting; the operation goes on for the others.
            c.callers.retain(|x| *x != caller);
            let failure =
                Failure { cause: Some(Cause::Signal), ..c.failure(ErrorKind::Aborted, c.schedule.attempts()) };
            self.push(Action::Reject { call: caller, failure });
            return true;
        }
        if c.aborted {
            return true;
        }
        c.aborted = true;
        match ::core::mem::replace(&mut c.phase, Phase::Blocked) {
            Phase::Sending(a) => {
                self.cancel_attempt(&a, c.key.as_deref());
                self.give_back(a, &c.url);
                self.end_aborted(now, c)
            }
            Phase::Waiting { .. } | Phase::Offline | Phase::Blocked => self.end_aborted(now, c),
            // A store call or lock is in flight: end when it completes.
            phase => {
                c.phase = phase;
                true
            }
        }
    }

    fn end_settled(&mut self, now: Now, c: &mut Call, response: Io, status: u16, attempts: u32) -> bool {
        let end = End::Settled { response, status, attempts };
        if !c.durable {
            self.tell(now, c, end);
            return false;
        }
        #[cfg(feature = "workflows")]
        if c.callers.is_empty() {
            // Nobody here waits any more (its workflow step's run stopped
            // at close): the answer is kept, as a resend's would be, for
            // whoever runs that step next (result(key)).
            let key = c.key.clone().unwrap_or_default();
            self.emit(EventKind::Settled, || Event::Settled { key: Some(key.clone()), status, attempts, resumed: false, response: None });
            let io = self.keep_answer(now, key, status, attempts, response);
            c.phase = Phase::Ending { io, end: End::Told };
            return true;
        }
        if !self.is(Mutant::DeleteBeforeSettled) {
            self.tell(now, c, end);
            return self.end_with_delete(c, End::Told, Step::CallSettled);
        }
        self.end_with_delete(c, end, Step::CallSettled)
    }

    fn end_with_delete(&mut self, c: &mut Call, end: End, step: Step) -> bool {
        let io = self.io();
        let key = c.key.clone().unwrap_or_default();
        self.push(Action::Delete { io, key, step });
        c.phase = Phase::Ending { io, end };
        true
    }

    /// No definitive answer within the live bounds (or no attempt allowed).
    fn give_up(
        &mut self,
        now: Now,
        c: &mut Call,
        reason: GiveUpReason,
        attempts: u32,
        status: Option<u16>,
        retry_in_ms: u64,
    ) -> bool {
        if c.durable {
            return self.end_queued(now, c, reason, attempts, status, retry_in_ms);
        }
        self.emit(EventKind::GiveUp, || Event::GiveUp { key: c.key.clone(), reason, attempts, status });
        match (c.last.take(), c.last_outcome) {
            // The server's last answer (a 503, a 429) is the caller's result, as fetch would give it.
            (Some(response), Some(Outcome::Response { .. })) => self.resolve_all(c, response),
            (cause, _) => {
                let mut failure = c.failure(reason.error_kind(), attempts);
                failure.cause = cause.map(Cause::Io);
                if reason == GiveUpReason::CircuitOpen {
                    failure.origin = Some(origin_of(&c.url).to_string());
                    failure.retry_after_ms = Some(retry_in_ms);
                }
                if reason == GiveUpReason::Budget {
                    // 'exhausted', and why: the origin's budget, not maxAttempts.
                    (failure.reason, failure.origin) = (Some(QueueReason::Budget), Some(origin_of(&c.url).to_string()));
                }
                self.reject_all(c, failure);
            }
        }
        false
    }

    /// A durable call's live bounds ended: its record, with when to try
    /// next, stays for the drainer.
    fn end_queued(
        &mut self,
        now: Now,
        c: &mut Call,
        reason: GiveUpReason,
        attempts: u32,
        status: Option<u16>,
        retry_in_ms: u64,
    ) -> bool {
        let last_outcome = c.last_outcome;
        let cause = self.last_cause(c);
        if reason == GiveUpReason::Closed {
            // Its progress is stored already.
            return self.tell_queued(now, c, QueueReason::Closed, attempts, status, cause);
        }
        let Some(mut record) = c.record.take() else {
            return false;
        };
        record.attempts = record.attempts.max(attempts);
        record.no_answer = no_answer(last_outcome);
        (record.next_attempt_at, record.not_before) = match last_outcome {
            _ if matches!(reason, GiveUpReason::CircuitOpen | GiveUpReason::Budget) => (now.wall + retry_in_ms as f64, Wall::EPOCH),
            Some(o) => match after_resend(&self.options.policy, record.attempts, &o, now.wall, &mut self.rng) {
                ResendDecision::RetryAt { next_attempt_at, not_before, .. } => (next_attempt_at, not_before),
                ResendDecision::Settle => (now.wall, Wall::EPOCH),
            },
            None => (now.wall, Wall::EPOCH),
        };
        c.queued_due = Some(now.mono_of(record.next_attempt_at.max(record.not_before)).max(now.mono));
        let end = End::Queued { reason: reason.queued(), attempts, status, cause };
        if self.is(Mutant::ForgetWhenQueued) {
            return self.end_with_delete(c, end, Step::CallQueued);
        }
        let io = self.io();
        self.push(Action::Put { io, record: Box::new(record), step: Step::CallQueued });
        c.phase = Phase::Ending { io, end };
        true
    }

    /// The previous attempt's failure, to be a rejection's cause; a
    /// previous response (nobody will get it) is dropped.
    fn last_cause(&mut self, c: &mut Call) -> Option<Io> {
        match (c.last.take(), c.last_outcome) {
            (Some(io), Some(Outcome::Response { .. })) => {
                self.push(Action::Release { io });
                None
            }
            (cause, _) => cause,
        }
    }

    fn end_closed(&mut self, now: Now, c: &mut Call) -> bool {
        let attempts = c.schedule.attempts();
        if c.durable {
            let cause = self.last_cause(c);
            return self.tell_queued(now, c, QueueReason::Closed, attempts, None, cause);
        }
        if let Some(io) = c.last.take() {
            self.push(Action::Release { io });
        }
        self.emit(EventKind::GiveUp, || Event::GiveUp {
            key: c.key.clone(),
            reason: GiveUpReason::Closed,
            attempts,
            status: None,
        });
        self.reject_all(c, c.failure(ErrorKind::Closed, attempts));
        false
    }

    /// The caller withdrew it: a stored record must not be resent later.
    fn end_aborted(&mut self, now: Now, c: &mut Call) -> bool {
        if let Some(io) = c.last.take() {
            self.push(Action::Release { io });
        }
        let end = End::Aborted { attempts: c.schedule.attempts() };
        if c.durable && !matches!(c.phase, Phase::Reading(_)) {
            return self.end_with_delete(c, end, Step::CallAborted);
        }
        self.finish(now, c, end)
    }

    fn tell_queued(
        &mut self,
        now: Now,
        c: &mut Call,
        reason: QueueReason,
        attempts: u32,
        status: Option<u16>,
        cause: Option<Io>,
    ) -> bool {
        self.finish(now, c, End::Queued { reason, attempts, status, cause })
    }

    /// Tells the end, gives the key back, and gives the drainer a queued
    /// record: a round when it is due, not one per queued call (each round
    /// lists the whole outbox).
    fn finish(&mut self, now: Now, c: &mut Call, end: End) -> bool {
        self.tell(now, c, end);
        self.release(&mut c.lock);
        if matches!(end, End::Queued { .. }) {
            match c.queued_due.take() {
                Some(at) if at > now.mono => self.drain_at(at),
                _ => self.kick(),
            }
        }
        false
    }

    /// Reports an end to listeners and callers.
    fn tell(&mut self, now: Now, c: &mut Call, end: End) {
        match end {
            End::Settled { response, status, attempts } => {
                self.emit(EventKind::Settled, || Event::Settled {
                    key: c.key.clone(),
                    status,
                    attempts,
                    resumed: false,
                    response: None,
                });
                self.resolve_all(c, response);
            }
            End::Queued { reason, attempts, status, cause } => {
                let key = c.key.clone().unwrap_or_default();
                self.emit(EventKind::Queued, || Event::Queued { key: key.clone(), reason, attempts, status });
                self.want_sync();
                self.steps_wait(now, &mut c.callers, &mut c.steps, &key);
                let mut failure = c.failure(ErrorKind::Queued, attempts);
                (failure.reason, failure.status, failure.cause) = (Some(reason), status, cause.map(Cause::Io));
                self.reject_all(c, failure);
            }
            End::Aborted { attempts } => {
                self.emit(EventKind::GiveUp, || Event::GiveUp {
                    key: c.key.clone(),
                    reason: GiveUpReason::Aborted,
                    attempts,
                    status: None,
                });
                let failure = Failure { cause: Some(Cause::Signal), ..c.failure(ErrorKind::Aborted, attempts) };
                self.reject_all(c, failure);
            }
            End::Told => {}
        }
    }

    fn resolve_all(&mut self, c: &mut Call, response: Io) {
        let n = c.callers.len();
        for (i, call) in c.callers.drain(..).enumerate() {
            self.push(Action::Resolve { call, response, last: i + 1 == n });
        }
        if n == 0 {
            self.push(Action::Release { io: response });
        }
    }

    /// Rejects every caller; a held cause goes to the first (it can be used once).
    fn reject_all(&mut self, c: &mut Call, failure: Failure) {
        let mut callers = c.callers.drain(..);
        match callers.next() {
            Some(first) => {
                let rest: Vec<CallId> = callers.collect();
                for call in rest {
                    let without_cause = match &failure.cause {
                        Some(Cause::Io(_)) => Failure { cause: None, ..failure.clone() },
                        _ => failure.clone(),
                    };
                    self.push(Action::Reject { call, failure: without_cause });
                }
                self.push(Action::Reject { call: first, failure });
            }
            None => {
                drop(callers);
                if let Some(Cause::Io(io)) = failure.cause {
                    self.push(Action::Release { io });
                }
            }
        }
    }

}

/// The key of request `n` (0 first) of one run of a workflow step whose key is `step`.
#[cfg(feature = "workflows")]
pub(crate) fn step_request_key(step: &str, n: u32) -> String {
    let n = n.to_string();
    [step, ":", n.as_str()].concat()
}

/// Whether an attempt got no answer (a timeout or a network error): its
/// retry costs the budget more. None (no attempt yet) counts as an answer.
fn no_answer(outcome: Option<Outcome>) -> bool {
    matches!(outcome, Some(Outcome::Network | Outcome::Timeout))
}
