//! One client instance (a tab, a process) as src/shell/client.rs holds it:
//! the in-memory state a crash loses (live calls, sleepers, breakers, the
//! drain flags), timers, and the crash point that follows every await.
//! Its calls are in live.rs, its resends in drain.rs, its store and locks
//! in store.rs.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use durafetch::core::breaker::{Admission, Breaker};
use durafetch::core::key::{fingerprint, origin_of};
use durafetch::core::outbox::{after_resend, Resend};
use durafetch::core::outcome::Outcome;
use durafetch::core::record::Record;
use durafetch::core::rng::SplitMix64;

use super::app;
use super::exec::Slot;
use super::ledger::Report;
use super::world::Sim;

/// The caller's AbortSignal.
pub struct Abort {
    aborted: Cell<bool>,
    listeners: RefCell<Vec<Box<dyn FnOnce()>>>,
}

impl Abort {
    pub fn new() -> Rc<Abort> {
        Rc::new(Abort { aborted: Cell::new(false), listeners: RefCell::new(Vec::new()) })
    }
    pub fn aborted(&self) -> bool {
        self.aborted.get()
    }
    pub fn abort(&self) {
        if !self.aborted.replace(true) {
            let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
            listeners.into_iter().for_each(|l| l());
        }
    }
    pub fn on_abort(&self, f: impl FnOnce() + 'static) {
        match self.aborted() {
            true => f(),
            false => self.listeners.borrow_mut().push(Box::new(f)),
        }
    }
}

/// A `client.fetch(url, { method: 'POST', body, idempotencyKey?, signal })`.
pub struct Call {
    pub op: usize,
    pub id: u64,
    pub key: Option<String>,
    pub url: String,
    pub body: Vec<u8>,
    pub signal: Rc<Abort>,
    pub resubmission: bool,
}

/// src/shell/request.rs `Prepared`: the call with its key and fingerprint.
pub struct Prepared {
    pub op: usize,
    pub call: u64,
    pub url: String,
    pub body: Vec<u8>,
    pub fingerprint: String,
    pub key: String,
    pub signal: Rc<Abort>,
    pub resubmission: bool,
}

/// What the caller's promise settles with: a Response status or a kind.
#[derive(Clone, Debug, PartialEq)]
pub enum CallResult {
    Status(u16),
    Failed(&'static str),
}

/// A keyed operation in flight here: later calls with its key join it.
pub struct Live {
    pub fingerprint: String,
    pub joiners: Vec<Slot<CallResult>>,
}

pub struct Client {
    pub sim: Rc<Sim>,
    pub instance: u64,
    pub slot: usize,
    pub alive: Cell<bool>,
    pub rng: RefCell<SplitMix64>,
    breakers: RefCell<BTreeMap<String, Breaker>>,
    pub live: RefCell<BTreeMap<String, Live>>,
    pub sleepers: RefCell<Vec<Slot<()>>>,
    pub held: Rc<RefCell<BTreeSet<String>>>,
    pub draining: Cell<bool>,
    pub drain_again: Cell<bool>,
    pub drain_forced: Cell<bool>,
    pub forced_done: RefCell<BTreeSet<String>>,
    pub drain_wake: RefCell<Vec<Slot<()>>>,
    seq: Cell<f64>,
    /// Check only: drain rounds that sent nothing, back to back (no virtual
    /// time between them), and when the last one ended.
    pub idle_streak: Cell<u64>,
    pub last_idle_end: Cell<Option<u64>>,
    /// Check only: live calls waiting out a server's Retry-After right now.
    pub asked_waits: Cell<u64>,
}

impl Client {
    pub fn new(sim: &Rc<Sim>, slot: usize) -> Rc<Client> {
        let instance = sim.next_instance.get();
        sim.next_instance.set(instance + 1);
        Rc::new(Client {
            sim: sim.clone(),
            instance,
            slot,
            alive: Cell::new(true),
            rng: RefCell::new(SplitMix64::new(sim.rng.borrow_mut().next_u64())),
            breakers: RefCell::new(BTreeMap::new()),
            live: RefCell::new(BTreeMap::new()),
            sleepers: RefCell::new(Vec::new()),
            held: Rc::new(RefCell::new(BTreeSet::new())),
            draining: Cell::new(false),
            drain_again: Cell::new(false),
            drain_forced: Cell::new(false),
            forced_done: RefCell::new(BTreeSet::new()),
            drain_wake: RefCell::new(Vec::new()),
            seq: Cell::new(0.0),
            idle_streak: Cell::new(0),
            last_idle_end: Cell::new(None),
            asked_waits: Cell::new(0),
        })
    }

    pub fn now_ms(&self) -> f64 {
        self.sim.now_ms()
    }

    /// A crash point: the tab may die right here.
    pub async fn step(&self, label: &'static str) {
        let p = match self.sim.cfg.focus_crash {
            Some((focus, p)) if focus == label => p,
            _ => self.sim.cfg.p_crash_step,
        };
        if self.sim.fault(p) {
            app::crash(&self.sim, self.slot, label);
            std::future::pending::<()>().await;
        }
    }

    pub async fn timer(&self, ms: u64) {
        let slot = Slot::new();
        let fill = slot.clone();
        self.sim.exec.after(ms, move || fill.fill(()));
        slot.wait().await
    }

    /// src/shell/timer.rs `sleep`: ends early on abort or when one of
    /// `wakers` is called; it is in `wakers` only while it waits.
    pub async fn sleep(&self, ms: u64, signal: Option<&Abort>, wakers: &RefCell<Vec<Slot<()>>>) {
        if ms == 0 || signal.is_some_and(|s| s.aborted()) {
            return;
        }
        let slot = Slot::new();
        let (timer, abort) = (slot.clone(), slot.clone());
        self.sim.exec.after(ms, move || timer.fill(()));
        if let Some(s) = signal {
            s.on_abort(move || abort.fill(()));
        }
        wakers.borrow_mut().push(slot.clone());
        slot.wait().await;
        wakers.borrow_mut().retain(|w| !w.same(&slot));
    }

    pub fn admit(&self, origin: &str) -> Admission {
        let Some(config) = self.sim.cfg.breaker else {
            return Admission::Allowed;
        };
        let now = self.now_ms();
        self.breakers.borrow_mut().entry(origin.to_string()).or_insert_with(|| Breaker::new(config)).admit(now).0
    }

    /// Back online (src/shell/client.rs `close_breakers`): failures while
    /// offline said nothing about the servers.
    pub fn close_breakers(&self) {
        self.breakers.borrow_mut().clear();
    }

    pub fn record_breaker(&self, origin: &str, outcome: Option<&Outcome>) {
        // A network error while the device is offline is ours, not the server's.
        if outcome == Some(&Outcome::Network) && self.sim.offline.get() {
            return;
        }
        let mut breakers = self.breakers.borrow_mut();
        let Some(breaker) = breakers.get_mut(origin) else {
            return;
        };
        match outcome {
            None => breaker.on_abandon(),
            Some(o) if o.retry_reason(&self.sim.cfg.policy.retry_on).is_some() => {
                breaker.on_failure(self.now_ms(), &mut self.rng.borrow_mut());
            }
            Some(_) => {
                breaker.on_success();
            }
        }
    }

    pub fn report(&self, key: &str, report: Report) {
        self.sim.log(|| format!("c{} report {key} {report:?}", self.instance));
        self.sim.ledger.borrow_mut().report(key, report, self.sim.exec.now());
    }

    /// `after_resend`, with its wait checked against the backoff bound.
    pub fn after_resend_checked(&self, key: &str, attempts: u32, outcome: &Outcome) -> Resend {
        let policy = &self.sim.cfg.policy;
        let decision = after_resend(policy, attempts, outcome, self.now_ms(), &mut self.rng.borrow_mut());
        if let Resend::RetryAt { delay_ms, .. } = decision {
            let asked = match *outcome {
                Outcome::Response { retry_after_ms: Some(ms), .. } => Some(ms),
                _ => None,
            };
            let op = self.sim.ledger.borrow().key_op.get(key).copied().unwrap_or(usize::MAX);
            self.sim.ledger.borrow_mut().on_wait(op, attempts.saturating_sub(1), delay_ms, asked, policy.backoff);
        }
        decision
    }

    pub fn new_record(&self, op: &Prepared) -> Record {
        let now = self.now_ms();
        let seq = self.seq.get();
        self.seq.set(seq + 1.0);
        Record {
            key: op.key.clone(),
            method: "POST".into(),
            url: op.url.clone(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(op.body.clone()),
            fingerprint: op.fingerprint.clone(),
            attempts: 0,
            created_at: now,
            seq,
            next_attempt_at: now,
            not_before: 0.0,
            expired_at: 0.0,
        }
    }

    pub fn prepare(&self, call: Call) -> Prepared {
        let key = call.key.unwrap_or_else(|| app::new_key(&self.sim));
        self.sim.ledger.borrow_mut().key_assigned(&key, call.op);
        Prepared {
            op: call.op,
            call: call.id,
            fingerprint: fingerprint("POST", &call.url, &call.body),
            url: call.url,
            body: call.body,
            key,
            signal: call.signal,
            resubmission: call.resubmission,
        }
    }

    pub fn origin(url: &str) -> String {
        origin_of(url).to_string()
    }
}
