//! Answers nobody was waiting for: an operation settled in the background
//! (after a reload, or by another tab) has its response kept in the store,
//! over its record, until `client.result(key)` reads it once or the TTL
//! passes. Other tabs hear of it (a BroadcastChannel note, through the
//! host) so their 'settled' listeners and `result(key)` calls learn it too.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, CallId, Done, Engine, Event, Io, Now, Query, Step, Stored, Task};
use crate::core::contract::{EventKind, StoreAction};

impl Engine {
    /// `client.result(key)`: the kept answer of operation `key`, once it
    /// has one; nothing if the store knows no such operation.
    pub fn result(&mut self, _now: Now, call: CallId, key: String) {
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
            Done::Got(Ok(Some(Stored::Record(_)))) => self.result_waiters.push((call, key)),
            Done::Got(Ok(_)) => self.push(Action::Kept { call, key: None }),
            Done::Got(Err(())) => {
                self.store_error(now, StoreAction::Get, io);
                self.result_waiters.push((call, key));
            }
            _ => self.push(Action::Kept { call, key: None }),
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
