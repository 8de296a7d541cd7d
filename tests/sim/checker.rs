//! What the simulated host notes only to check the engine. Its facts come
//! from what the simulated network carried and the store kept, and from what
//! the context was told (events, the platform's `navigator.onLine`), never
//! from the engine's own labels: a bug that mislabels an attempt or a delete
//! cannot hide behind them. The host (host.rs) performs; this watches.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use durafetch::core::outcome::StatusSet;

use super::ledger::Ledger;

/// Idle rounds allowed back to back (a kick or a clock jump forward may
/// start one at once); more is a spin.
pub const MAX_IDLE_STREAK: u64 = 3;

/// A drain round under way: its resends' key locks, and how many were refused.
#[derive(Default)]
struct Round {
    started: u64,
    resend_locks: u32,
    refused: u32,
}

pub struct Checker {
    /// Each live call's attempts that counted, by the host's call id.
    counted: RefCell<BTreeMap<u32, u32>>,
    /// The live call each attempt on the wire belongs to, by io.
    live_ios: RefCell<BTreeMap<u32, u32>>,
    /// The status of each key's latest attempt here, once answered.
    answers: RefCell<BTreeMap<String, u16>>,
    /// The Retry-After (ms) of each key's latest answer, for the 'retry'
    /// event that follows it.
    asked: RefCell<BTreeMap<String, Option<u64>>>,
    /// This context was told the device is offline (its 'offline' event, or
    /// a failure reported with the platform's fact) and not online since.
    told_offline: Cell<bool>,
    round: RefCell<Option<Round>>,
    idle_streak: Cell<u64>,
    last_idle_end: Cell<Option<u64>>,
    /// The status each step's Response had, until the engine commits or
    /// refuses the step.
    step_statuses: RefCell<BTreeMap<(String, u32), u16>>,
}

impl Checker {
    pub fn new(offline: bool) -> Checker {
        Checker {
            counted: RefCell::new(BTreeMap::new()),
            live_ios: RefCell::new(BTreeMap::new()),
            answers: RefCell::new(BTreeMap::new()),
            asked: RefCell::new(BTreeMap::new()),
            told_offline: Cell::new(offline),
            round: RefCell::new(None),
            idle_streak: Cell::new(0),
            last_idle_end: Cell::new(None),
            step_statuses: RefCell::new(BTreeMap::new()),
        }
    }

    /// The context's 'offline' (true) or 'online' (false) event.
    pub fn told(&self, offline: bool) {
        self.told_offline.set(offline);
    }

    /// An attempt of `key` goes on the wire; `live`: the host's call id
    /// when a live call sends it. Returns that call's attempt number.
    pub fn sent(&self, io: u32, key: &str, live: Option<u32>) -> u32 {
        self.answers.borrow_mut().remove(key);
        // The Retry-After that counts is this attempt's answer's.
        self.asked.borrow_mut().remove(key);
        let Some(call) = live else { return 0 };
        self.live_ios.borrow_mut().insert(io, call);
        let mut counted = self.counted.borrow_mut();
        let n = counted.entry(call).or_insert(0);
        *n += 1;
        *n
    }

    pub fn answered(&self, io: u32, key: &str, status: u16, asked: Option<u64>) {
        self.live_ios.borrow_mut().remove(&io);
        self.answers.borrow_mut().insert(key.to_string(), status);
        self.asked.borrow_mut().insert(key.to_string(), asked);
    }

    /// A fetch failed (a network error, or the end of a cancelled one),
    /// reported with the platform's fact `offline`.
    pub fn failed(&self, io: u32, key: Option<&str>, offline: bool) {
        if let Some(key) = key {
            self.asked.borrow_mut().insert(key.to_string(), None);
        }
        self.told_offline.set(self.told_offline.get() || offline);
        self.ended(io);
    }

    /// The engine cancelled an attempt: a timeout or an abort is judged now,
    /// not when its fetch ends.
    pub fn cancelled(&self, io: u32) {
        self.ended(io);
    }

    /// An attempt that ends while this context has been told the device is
    /// offline counts for nothing (the README): its call's number does not move.
    fn ended(&self, io: u32) {
        let call = self.live_ios.borrow_mut().remove(&io);
        if let (true, Some(call)) = (self.told_offline.get(), call) {
            if let Some(n) = self.counted.borrow_mut().get_mut(&call) {
                *n -= 1;
            }
        }
    }

    /// The attempts of live call `call` that counted.
    pub fn counted(&self, call: u32) -> u32 {
        self.counted.borrow().get(&call).copied().unwrap_or(0)
    }

    /// A delete of `key` ends a settled operation when its latest attempt
    /// here got an answer `retry_on` does not retry.
    pub fn settles(&self, key: &str, retry_on: &StatusSet) -> bool {
        self.answers.borrow().get(key).is_some_and(|&s| !retry_on.contains(s))
    }

    /// The Retry-After of `key`'s latest answer, taken by its 'retry' event.
    pub fn take_asked(&self, key: &str) -> Option<u64> {
        self.asked.borrow_mut().remove(key).flatten()
    }

    pub fn step_answered(&self, id: &str, index: u32, status: u16) {
        self.step_statuses.borrow_mut().insert((id.to_string(), index), status);
    }

    /// The status step `index` of run `id` answered with, once.
    pub fn take_step_status(&self, id: &str, index: u32) -> Option<u16> {
        self.step_statuses.borrow_mut().remove(&(id.to_string(), index))
    }

    pub fn round_started(&self, now: u64) {
        *self.round.borrow_mut() = Some(Round { started: now, ..Round::default() });
    }

    pub fn resend_lock(&self, granted: bool) {
        if let Some(round) = self.round.borrow_mut().as_mut() {
            round.resend_locks += 1;
            round.refused += !granted as u32;
        }
    }

    /// A round whose ready resends all found their key locked elsewhere must
    /// be followed by a wait, not by another round at once.
    pub fn round_ended(&self, instance: u64, now: u64, ledger: &mut Ledger) {
        let Some(round) = self.round.borrow_mut().take() else {
            return;
        };
        if round.resend_locks == 0 || round.refused < round.resend_locks {
            if round.resend_locks > 0 {
                self.idle_streak.set(0);
                self.last_idle_end.set(None);
            }
            return;
        }
        let back_to_back = self.last_idle_end.get() == Some(round.started);
        let streak = if back_to_back { self.idle_streak.get() + 1 } else { 1 };
        self.idle_streak.set(streak);
        self.last_idle_end.set(Some(now));
        let c = &mut ledger.checks;
        c.idle_rounds += 1;
        c.longest_idle_streak = c.longest_idle_streak.max(streak);
        if streak == MAX_IDLE_STREAK + 1 {
            ledger.checks.long_idle_streaks += 1;
            ledger.violations.push(format!(
                "spin: client {instance} ran {streak} drain rounds back to back by t={now} ms, each finding every ready key locked elsewhere"
            ));
        }
    }
}
