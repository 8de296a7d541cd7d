//! One attempt on the wire: what a caller's call and a background resend
//! both send, and judge, the same way.
//!
//! The origin's breaker admits it (a probe, when half-open), the 'attempt'
//! event and the send go out, and its timeout runs on the monotonic clock.
//! Its end is judged once for both: a failure while the device is offline
//! is the device's (not counted, a probe given back), anything else is the
//! breaker's verdict.
//!
//! A cancelled attempt (timed out, aborted, closed) may still reach the
//! server: a platform's abort stops waiting, not always sending. Its key
//! *lingers* until the host says that fetch has ended, and meanwhile no
//! other send of the key starts here, whatever the platform's locks do:
//! one client never has one key in flight twice.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Engine, Event, Io, Mutant, Now, Source, Task};
use crate::core::breaker::Admission;
use crate::core::contract::EventKind;
use crate::core::key::origin_of;
use crate::core::outcome::Outcome;

pub(crate) struct Attempt {
    pub io: Io,
    /// Monotonic ms.
    pub timeout_at: f64,
    /// The one request a half-open breaker lets through.
    probe: bool,
}

/// What is sent under which key (the host tells the 'attempt' listeners).
pub(crate) struct Send<'a> {
    pub key: Option<&'a str>,
    pub url: &'a str,
    /// 1 for the first.
    pub number: u32,
    pub resumed: bool,
    pub timeout_ms: u64,
}

impl Engine {
    /// Sends one attempt if the origin's breaker lets it; else says how
    /// long until it would (ms; 0 while another probe is out).
    pub(crate) fn send_attempt(&mut self, now: Now, source: Source, s: Send) -> Result<Attempt, u64> {
        let origin = origin_of(s.url);
        let (admission, transition) = self.breakers.admit(origin, now.mono);
        if let Some(state) = transition {
            self.emit(EventKind::Breaker, || Event::Breaker { origin: origin.to_string(), state });
        }
        let probe = match admission {
            Admission::Rejected { retry_in_ms } => return Err(retry_in_ms),
            admission => admission == Admission::Probe,
        };
        let io = self.io();
        let key = s.key.map(String::from);
        self.push(Action::Send { io, source, key, timeout_ms: s.timeout_ms, attempt: s.number, resumed: s.resumed });
        Ok(Attempt { io, timeout_at: now.mono + s.timeout_ms as f64, probe })
    }

    /// The attempt to `url` ended with `outcome`: the breaker hears it.
    /// False when it failed while the device is offline: that says nothing
    /// of the server, and counts for nothing.
    pub(crate) fn judge_attempt(&mut self, now: Now, a: Attempt, url: &str, outcome: &Outcome) -> bool {
        if !matches!(outcome, Outcome::Response { .. }) && !self.online {
            self.give_back(a, url);
            return false;
        }
        let origin = origin_of(url);
        let retry_on = self.options.policy.retry_on;
        if let Some(state) = self.breakers.record(origin, Some(outcome), &retry_on, now.mono, &mut self.rng) {
            self.emit(EventKind::Breaker, || Event::Breaker { origin: origin.to_string(), state });
        }
        true
    }

    /// An attempt that ended without a verdict (aborted, closed): a probe
    /// is given back for another to take.
    pub(crate) fn give_back(&mut self, a: Attempt, url: &str) {
        if a.probe {
            self.breakers.abandon(origin_of(url));
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
}
