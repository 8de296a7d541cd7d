//! Answers nobody was waiting for: an operation settled in the background
//! (after a reload, or by another tab) has its response kept in the store,
//! over its record, until `client.result(key)` reads it once or the TTL
//! passes. Other tabs hear of it (a BroadcastChannel note, through the
//! host) so their 'settled' listeners and `result(key)` calls learn it too.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Arg, CallId, Done, Engine, Event, Failure, Io, Now, Query, Step, Stored, Task};
use crate::core::key::is_valid_key;
use crate::core::options::{refused, Expect, OptionError};

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
                self.result(now, call, key);
                Ok(())
            }
            _ => Err(refused("result(key)", Expect::Key)),
        }
    }

    pub(crate) fn result(&mut self, _now: Now, call: CallId, key: String) {
        // Running here: its answer is this call's too.
        let joined = self.tasks.iter_mut().any(|t| match t {
            Task::Call(c) if c.key.as_deref() == Some(key.as_str()) => {
                c.callers.push(call);
                true
            }
            _ => false,
        });
        if joined {
            return;
        }
        // Read once: being deleted, it is no longer there to read.
        if self.forgetting.iter().any(|(_, k)| *k == key) {
            return self.push(Action::Kept { call, key: None });
        }
        let io = self.io();
        self.queries.push((call, io, Query::Result { key: key.clone(), woken: false }));
        self.push(Action::Get { io, key, step: Step::ResultRead });
    }

    pub(crate) fn answer_result(&mut self, now: Now, call: CallId, key: String, woken: bool, io: Io, done: Done) {
        match done {
            Done::Got(Ok(Some(Stored::Result(kept)))) => {
                self.push(Action::Kept { call, key: Some(kept.key.clone()) });
                // Read once.
                let io = self.io();
                self.forget(io, kept.key);
            }
            // Read before it settled: read again.
            Done::Got(Ok(Some(Stored::Record(_)))) if woken => self.result(now, call, key),
            // Still pending (queued here, or sent by another tab): wait for it.
            Done::Got(Ok(Some(Stored::Record(_)))) => self.wait_for_result(now, call, key),
            Done::Got(Ok(_)) => self.push(Action::Kept { call, key: None }),
            Done::Got(Err(())) => {
                self.store_error(now, StoreAction::Get, io);
                self.wait_for_result(now, call, key);
            }
            _ => self.push(Action::Kept { call, key: None }),
        }
    }

    /// Waits for operation `key` to settle. Another context that settles
    /// it tells this one (the host's channel) when it can; without one (an
    /// adapter shared by processes) the store is read again every
    /// `RESULT_WATCH_MS`.
    fn wait_for_result(&mut self, now: Now, call: CallId, key: String) {
        if self.closed {
            let failure = Failure { key: Some(key), ..Failure::new(ErrorKind::Closed) };
            return self.push(Action::Reject { call, failure });
        }
        self.result_waiters.push((call, key));
        self.result_watch_at.get_or_insert(now.mono + RESULT_WATCH_MS);
    }

    /// close(): nothing will settle here any more; the waiting `result(key)`
    /// calls end ('closed').
    pub(crate) fn close_results(&mut self, now: Now) {
        self.result_watch_at = None;
        for (call, key) in ::core::mem::take(&mut self.result_waiters) {
            self.wait_for_result(now, call, key);
        }
    }

    /// The watch is due: every waiting `result(key)` reads again.
    pub(crate) fn watch_results(&mut self, now: Now) {
        self.result_watch_at = None;
        for (call, key) in ::core::mem::take(&mut self.result_waiters) {
            self.result(now, call, key);
        }
    }

    /// Operation `key` settled (here, or in another tab): callers of
    /// `result(key)` read it again.
    pub(crate) fn wake_results(&mut self, now: Now, key: &str) {
        for (_, _, query) in self.queries.iter_mut() {
            if let Query::Result { key: k, woken } = query {
                *woken |= k == key;
            }
        }
        let (woken, rest): (Vec<_>, Vec<_>) = ::core::mem::take(&mut self.result_waiters).into_iter().partition(|(_, k)| k == key);
        self.result_waiters = rest;
        for (call, key) in woken {
            self.result(now, call, key);
        }
    }

    /// Another tab settled operation `key` in the background: this tab's
    /// 'settled' listeners and `result(key)` callers hear of it too.
    pub fn remote_settled(&mut self, now: Now, key: &str, status: u16, attempts: u32) {
        let k = Some(key.to_string());
        self.emit(EventKind::Settled, || Event::Settled { key: k, status, attempts, resumed: true, response: None });
        self.wake_results(now, key);
        self.settle_idle();
    }
}
