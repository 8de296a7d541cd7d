//! Answers nobody was waiting for: an operation settled in the background
//! (after a reload, or by another tab) has its response kept in the store,
//! over its record, until `client.result(key)` reads it once or the TTL
//! passes. Other tabs hear of it (a BroadcastChannel note, through the
//! host) so their 'settled' listeners and `result(key)` calls learn it too.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Arg, CallId, Done, Engine, Event, Failure, Io, Mutant, Now, Query, Step, Stored, Task};
use crate::core::key::is_valid_key;
use crate::core::options::{refused, Expect, OptionError};

/// A caller waiting for operation `key`'s answer: `result(key)`, or a
/// workflow step's request that ended 'queued' (it needs the answer).
pub(crate) struct Waiter {
    pub call: CallId,
    pub key: String,
    pub step: bool,
}

/// How often `result(key)` reads the store again while it waits and hears
/// nothing (a channel note or a settle here wakes it at once).
pub(crate) const RESULT_WATCH_MS: f64 = 2_000.0;
use crate::core::contract::{ErrorKind, EventKind, StoreAction};

impl Engine {
    /// `client.result(key)`: the kept answer of operation `key`, once it
    /// has one; nothing if the store knows no such operation.
    pub fn result_of(&mut self, now: Now, call: CallId, key: Arg<String>) -> Result<(), OptionError> {
        match key {
            Arg::Given(key) if is_valid_key(&key) => {
                self.result(now, Waiter { call, key, step: false });
                Ok(())
            }
            _ => Err(refused("result(key)", Expect::Key)),
        }
    }

    pub(crate) fn result(&mut self, _now: Now, w: Waiter) {
        // Running here: its answer is this call's too.
        let joined = self.tasks.iter_mut().any(|t| match t {
            Task::Call(c) if c.key.as_deref() == Some(w.key.as_str()) => {
                c.callers.push(w.call);
                if w.step {
                    c.steps.push(w.call);
                }
                true
            }
            _ => false,
        });
        if joined {
            return;
        }
        // Read once: being deleted, it is no longer there to read.
        if self.forgetting.iter().any(|(_, k)| *k == w.key) {
            return self.no_result(w);
        }
        let io = self.io();
        let key = w.key.clone();
        self.queries.push((w.call, io, Query::Result { waiter: w, woken: false }));
        self.push(Action::Get { io, key, step: Step::ResultRead });
    }

    pub(crate) fn answer_result(&mut self, now: Now, w: Waiter, woken: bool, io: Io, done: Done) {
        match done {
            // Read once: its reader has it when its delete is done, so a
            // reader in another tab after this one finds nothing.
            Done::Got(Ok(Some(Stored::Result(kept)))) => {
                let delete = self.io();
                if self.is(Mutant::AnswerReadBeforeDelete) {
                    self.push(Action::Kept { call: w.call, held: Some(io), last: true });
                } else {
                    self.kept_readers.push((delete, w.call, io));
                }
                self.forget(delete, kept.key);
            }
            // Read before it settled: read again.
            Done::Got(Ok(Some(Stored::Record(_)))) if woken => self.result(now, w),
            // Still pending (queued here, or sent by another tab): wait for it.
            Done::Got(Ok(Some(Stored::Record(_)))) => self.wait_for_result(now, w),
            Done::Got(Err(())) => {
                self.store_error(now, StoreAction::Get, io);
                self.wait_for_result(now, w);
            }
            _ => self.no_result(w),
        }
    }

    /// The store knows no such operation (any more): `result(key)` answers
    /// null; a workflow step's request, which needs an answer, fails.
    fn no_result(&mut self, w: Waiter) {
        if w.step {
            let failure = Failure { key: Some(w.key), ..Failure::new(ErrorKind::Exhausted) };
            return self.push(Action::Reject { call: w.call, failure });
        }
        self.push(Action::Kept { call: w.call, held: None, last: false });
    }

    /// Waits for operation `key` to settle. Another context that settles
    /// it tells this one (the host's channel) when it can; without one (an
    /// adapter shared by processes) the store is read again every
    /// `RESULT_WATCH_MS`.
    pub(crate) fn wait_for_result(&mut self, now: Now, w: Waiter) {
        if self.closed {
            let failure = Failure { key: Some(w.key), ..Failure::new(ErrorKind::Closed) };
            return self.push(Action::Reject { call: w.call, failure });
        }
        self.result_waiters.push(w);
        self.result_watch_at.get_or_insert(now.mono + RESULT_WATCH_MS);
    }

    /// A workflow step needs an answer, and 'queued' is none: the callers in
    /// `steps` wait for operation `key` to settle instead (closing, the run
    /// stops where it is: 'closed').
    #[cfg(not(feature = "workflows"))]
    pub(crate) fn steps_wait(&mut self, _: Now, _: &mut Vec<CallId>, _: &mut Vec<CallId>, _: &str) {}

    #[cfg(feature = "workflows")]
    pub(crate) fn steps_wait(&mut self, now: Now, callers: &mut Vec<CallId>, steps: &mut Vec<CallId>, key: &str) {
        for call in ::core::mem::take(steps) {
            // Only those not answered already.
            if let Some(i) = callers.iter().position(|c| *c == call) {
                callers.remove(i);
                self.wait_for_result(now, Waiter { call, key: key.into(), step: true });
            }
        }
    }

    /// close(): nothing will settle here any more; the waiting `result(key)`
    /// calls end ('closed').
    pub(crate) fn close_results(&mut self, now: Now) {
        self.result_watch_at = None;
        for w in ::core::mem::take(&mut self.result_waiters) {
            self.wait_for_result(now, w);
        }
    }

    /// The watch is due: every waiting `result(key)` reads again.
    pub(crate) fn watch_results(&mut self, now: Now) {
        self.result_watch_at = None;
        for w in ::core::mem::take(&mut self.result_waiters) {
            self.result(now, w);
        }
    }

    /// Operation `key` settled (here, or in another tab): callers of
    /// `result(key)` read it again.
    pub(crate) fn wake_results(&mut self, now: Now, key: &str) {
        for (_, _, query) in self.queries.iter_mut() {
            if let Query::Result { waiter, woken } = query {
                *woken |= waiter.key == key;
            }
        }
        let (woken, rest): (Vec<_>, Vec<_>) = ::core::mem::take(&mut self.result_waiters).into_iter().partition(|w| w.key == key);
        self.result_waiters = rest;
        for w in woken {
            self.result(now, w);
        }
    }

    /// Another tab kept operation `key`'s answer (notes.rs): this tab's
    /// 'settled' listeners and `result(key)` callers hear of it too.
    pub(crate) fn remote_settled(&mut self, now: Now, key: &str, status: u16, attempts: u32) {
        let k = Some(key.to_string());
        self.emit(EventKind::Settled, || Event::Settled { key: k, status, attempts, resumed: true, response: None });
        self.wake_results(now, key);
        self.settle_idle();
    }
}

impl Engine {
    /// Writes an answer nobody here waits for over its record, for
    /// `client.result(key)`; `response` is its last use. Returns the write.
    pub(crate) fn keep_answer(&mut self, now: Now, key: String, status: u16, attempts: u32, response: Io) -> Io {
        let data = crate::core::kept::KeptResult { key: key.clone(), status, settled_at: now.wall }.encode();
        let io = self.io();
        self.keeping.push((io, key.clone(), status, attempts));
        self.push(Action::Keep { io, key, data, status, attempts, response });
        io
    }
}
