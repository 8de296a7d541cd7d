//! A forced pass: every stored operation resent once, now, without waiting
//! for our own backoff, but never before a server's `Retry-After` and only
//! through its origin's breaker. `resume()`, 'online', a page shown where
//! there is no Background Sync (background.rs) and `drain()` ask for one.
//!
//! A pass starts at the next round's plan (a round already planned is not
//! changed) and ends with the first round that finds nothing more to send
//! now: each operation has settled, waits for a later retry (its backoff,
//! the server's `Retry-After`, the breaker), or is being sent by a call
//! here or in another context. `drain()` callers are answered then, with
//! how many operations settled since they asked and how many are still
//! stored; a sync event's caller also learns whether the browser should
//! fire it again (some remain, and it is not the event's last chance).
//! Nothing here deletes an operation: only a definitive answer (resend.rs)
//! or its TTL (expire.rs) does, as in every round.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, CallId, Cause, Engine, Failure, Io, Now};
use crate::core::contract::{ErrorKind, StoreAction};

/// The pass under way: the keys it has resent (each goes once), sorted:
/// looked up for every record of every round.
#[derive(Default)]
pub(crate) struct Pass {
    resent: Vec<String>,
}

impl Pass {
    /// `key` may still skip our backoff in this pass.
    pub fn forces(&self, key: &str) -> bool {
        self.resent.binary_search_by(|k| k.as_str().cmp(key)).is_err()
    }

    /// `key` is resent now: forced if it had not been yet.
    pub fn take(&mut self, key: &str) -> bool {
        match self.resent.binary_search_by(|k| k.as_str().cmp(key)) {
            Ok(_) => false,
            Err(at) => {
                self.resent.insert(at, key.to_string());
                true
            }
        }
    }
}

/// Who asks for a drain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainFor {
    /// `client.drain()`.
    Call,
    /// A Background Sync event; `last_chance`: the browser's last try for it.
    Sync { last_chance: bool },
}

/// A `drain()` caller, or a sync event's (`last_chance`: the browser's last
/// try for it). `settled`: operations resent here that settled since it asked.
pub(crate) struct PassCaller {
    call: CallId,
    last_chance: bool,
    settled: u32,
    /// Its pass has started; else it waits for the next one.
    pub in_pass: bool,
}

impl Engine {
    /// `client.drain()`, or a sync event's: a forced pass, answered
    /// (`Drained`) once it ends. The browser fires a sync event only once it
    /// has a network: the device is online, whatever it said before.
    pub fn drain(&mut self, now: Now, call: CallId, why: DrainFor) {
        if self.closed {
            return self.push(Action::Reject { call, failure: Failure::new(ErrorKind::Closed) });
        }
        let last_chance = match why {
            DrainFor::Sync { last_chance } => {
                if !self.online {
                    self.online(now);
                }
                last_chance
            }
            DrainFor::Call => false,
        };
        self.drain.callers.push(PassCaller { call, last_chance, settled: 0, in_pass: false });
        self.drain.asked = true;
        // A client just made resends what is stored on its next task: this
        // joins that pass instead of running one more.
        if self.ready_at.is_none() {
            self.kick();
        }
        self.settle_idle();
    }

    /// Resend every pending record once, now.
    pub(crate) fn force_drain(&mut self, _now: Now) {
        self.drain.asked = true;
        self.kick();
    }

    /// A round plans: the pass asked for starts here, with its callers.
    pub(crate) fn begin_pass(&mut self) {
        if !::core::mem::take(&mut self.drain.asked) {
            return;
        }
        self.drain.pass = Some(Pass::default());
        for caller in self.drain.callers.iter_mut() {
            caller.in_pass = true;
        }
    }

    /// A resend got its definitive answer (and its record is gone).
    pub(crate) fn pass_settled(&mut self) {
        for caller in self.drain.callers.iter_mut() {
            caller.settled += 1;
        }
    }

    /// Nothing more can go now: the pass ends, `remaining` operations stored.
    pub(crate) fn end_pass(&mut self, remaining: u32) {
        self.drain.pass = None;
        let mut i = 0;
        while let Some(c) = self.drain.callers.get(i) {
            if !c.in_pass {
                i += 1;
                continue;
            }
            let PassCaller { call, last_chance, settled, .. } = self.drain.callers.remove(i);
            let retry = remaining > 0 && !last_chance;
            self.push(Action::Drained { call, settled, remaining, retry });
        }
    }

    /// The round could not list the store: `drain()` callers get the
    /// failure (its cause, held under `io`, to the first), else listeners do.
    pub(crate) fn listing_failed(&mut self, now: Now, io: Io) {
        if self.drain.callers.is_empty() {
            return self.store_error(now, StoreAction::List, io);
        }
        self.drain_soon(now);
        self.reject_callers(Failure::storage(StoreAction::List, Cause::Io(io)));
    }

    /// close(): no pass will end here any more.
    pub(crate) fn close_passes(&mut self) {
        self.drain.pass = None;
        self.drain.asked = false;
        self.reject_callers(Failure::new(ErrorKind::Closed));
    }

    /// Every `drain()` caller fails; a held cause goes to the first only.
    fn reject_callers(&mut self, mut failure: Failure) {
        for caller in ::core::mem::take(&mut self.drain.callers) {
            self.push(Action::Reject { call: caller.call, failure: failure.clone() });
            failure.cause = None;
        }
    }
}
