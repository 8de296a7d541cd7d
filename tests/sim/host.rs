//! The simulated host of one engine: a tab or a process.
//!
//! It does what src/shell does for the shipped engine, over simulated
//! parts: attempts go to the simulated network, store calls to the shared
//! store, locks to the simulated Web Locks, the engine's wake-up to the
//! virtual clock. It keeps what the engine must not hold (the callers'
//! promises, responses, causes, listings) under the engine's ids, and checks
//! that each is handed on or dropped exactly once. Before it performs any
//! action, and before it delivers any completion, the tab may die: that is
//! every action boundary of the protocol.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use durafetch::core::breaker::Transition;
use durafetch::core::contract::{ErrorKind, GiveUpReason, QueueReason};
use durafetch::core::engine::{
    Action, Arg, AttemptFailure, CallId, CallRequest, Cause, DrainFor, Engine, EngineConfig, Event, Io, LockName, Mono, Now, RunInput,
    Source, Step, StepGo, Wall,
};
use durafetch::core::kept::KeptResult;
use durafetch::core::key::{origin_of, uuid_v4};
use durafetch::core::options::Options;
use durafetch::core::record::Record;
use durafetch::core::retry_after::parse_retry_after;

use super::app;
use super::checker::Checker;
use super::checks::Sending;
use super::fleet::CHANNEL_MS;
use super::drains::{self, DrainAsk};
use super::stored::StoredValue;
use super::workflows::{self, run_id, run_of, step_name, STEPS, WORKFLOW};
use super::ledger::{AttemptAt, Report, Sender};
use super::net::{dispatch, Reply};
use super::store::{DELETE_DELAY_MS, LIST_MS, STORE_MS};
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

/// A `client.fetch(url, { method: 'POST', body, idempotencyKey?, durable?, signal })`.
pub struct Call {
    pub op: usize,
    pub id: u64,
    pub key: Option<String>,
    pub url: String,
    pub body: Vec<u8>,
    pub durable: Option<bool>,
    pub signal: Rc<Abort>,
    pub resubmission: bool,
    /// A workflow step's request (io/runs.js marks them): the step's key and
    /// the request's place in the step.
    pub from_step: Option<(String, u32)>,
}

/// What the caller's promise settles with: a Response status or a kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CallResult {
    Status(u16),
    Failed(ErrorKind),
}

struct CallState {
    op: usize,
    id: u64,
    key: String,
    url: String,
    body: Vec<u8>,
    durable: bool,
    resubmission: bool,
    signal: Rc<Abort>,
    /// When its schedule started (the deadline's origin).
    started: Option<u64>,
    /// Check only: the virtual time before which the server asked us to wait.
    floor: u64,
    on_done: Option<Box<dyn FnOnce(CallResult)>>,
}

/// A caller of something other than fetch, waiting for the engine's answer.
enum Waiter {
    /// `createClient()`.
    Created,
    /// `client.start()` of run `r`.
    Start(usize),
    /// `client.result(key)`: the status it resolved with, or the kind it
    /// rejected with; None when the store knew no such operation.
    Result(Box<dyn FnOnce(Option<CallResult>)>),
    /// `client.drain()` (tests/sim/drains.rs).
    Drain(DrainAsk),
}

/// What the host holds for the engine, under an io.
#[derive(Clone, Debug)]
enum Payload {
    Response(u16),
    /// A kept answer a read found (its status), as io/host.js holds it.
    Kept(u16),
    Cause,
    Listing(Vec<StoredValue>),
}

/// Check only: what this host saw of the drainer's current round.

pub struct Host {
    pub sim: Rc<Sim>,
    pub instance: u64,
    pub slot: usize,
    pub alive: Cell<bool>,
    pub closed: Cell<bool>,
    engine: RefCell<Engine>,
    calls: RefCell<BTreeMap<u32, CallState>>,
    next_call: Cell<u32>,
    /// Attempts on the wire, by io.
    sending: RefCell<BTreeMap<u32, (String, Sending)>>,
    /// Attempts the engine cancelled whose fetch has not ended yet: the
    /// first of the abort's rejection and a late reply ends it.
    cancelled: RefCell<BTreeSet<u32>>,
    payloads: RefCell<BTreeMap<u32, Payload>>,
    /// Lock names held in this process (Web Locks aside).
    held: RefCell<BTreeSet<String>>,
    /// Lock requests waiting for a name held in this process (io/locks.js
    /// queues them the same way), in order.
    realm_waiting: RefCell<BTreeMap<String, std::collections::VecDeque<(Io, Step)>>>,
    /// Deletes held back to share a transaction (io/idb.js), not yet sent.
    held_deletes: RefCell<Vec<Box<dyn FnOnce(&Rc<Host>)>>>,
    timer: Cell<u64>,
    /// When the pending timer fires (monotonic ms), if one is pending.
    timer_at: Cell<Option<f64>>,
    waiters: RefCell<BTreeMap<u32, Waiter>>,
    /// Runs whose workflow code runs here.
    execs: RefCell<BTreeSet<usize>>,
    /// Steps whose body threw here, not yet failed by the engine.
    threw: RefCell<BTreeSet<(String, u32)>>,
    /// Check only: the engine is hearing another tab's news (what it
    /// reports meanwhile was caused by that tab).
    hearing: Cell<bool>,
    /// Check only: origins whose breaker opened on this tab's own verdict,
    /// until the engine has done what the verdict asked (telling the others).
    opened: RefCell<Vec<String>>,
    /// What is noted only to check the engine (checker.rs).
    check: Checker,
}

fn step_label(step: Step, prefix: &'static str) -> &'static str {
    macro_rules! labels {
        ($($step:ident => $name:literal,)+) => {
            match (prefix, step) {
                $(("get", Step::$step) => concat!("get:", $name),
                  ("put", Step::$step) => concat!("put:", $name),
                  ("delete", Step::$step) => concat!("delete:", $name),
                  ("list", Step::$step) => concat!("list:", $name),
                  ("lock", Step::$step) => concat!("lock:", $name),
                  ("done", Step::$step) => concat!("done:", $name),)+
                _ => "other",
            }
        };
    }
    labels! {
        CallRead => "call-read", CallPersist => "call-persist", CallLock => "call-lock",
        CallProgress => "call-progress", CallQueued => "call-queued", CallSettled => "call-settled",
        CallAborted => "call-aborted", DrainLock => "drain-lock", DrainList => "drain-list",
        Quarantine => "quarantine", ResendLock => "resend-lock", ResendReread => "resend-reread",
        ResendDeferred => "resend-deferred", ResendProgress => "resend-progress", ResendSettled => "resend-settled",
        ProbeLock => "probe-lock", ExpireLock => "expire-lock", ExpireReread => "expire-reread", ExpireMark => "expire-mark",
        ExpireDelete => "expire-delete", PendingList => "pending-list", RunLock => "run-lock",
        RunRead => "run-read", RunJournal => "run-journal", ResultRead => "result-read", ResultKeep => "result-keep",
        ResultDelete => "result-delete", Scan => "scan",
    }
}

/// The crash point before an action.
fn label(action: &Action) -> &'static str {
    match action {
        Action::Send { source: Source::Call(_), .. } => "send:live",
        Action::Send { source: Source::Record(_), .. } => "send:resend",
        Action::Cancel { .. } => "cancel",
        Action::Resolve { .. } => "resolve",
        Action::Reject { .. } => "reject",
        Action::Release { .. } => "release",
        Action::Emit(Event::Retry { .. }) => "emit:retry",
        Action::Emit(Event::GiveUp { .. }) => "emit:giveup",
        Action::Emit(Event::Breaker { .. }) => "emit:breaker",
        Action::Emit(Event::Settled { .. }) => "emit:settled",
        Action::Emit(Event::Queued { .. }) => "emit:queued",
        Action::Emit(Event::StoreError(_)) => "emit:store-error",
        Action::Emit(Event::Quarantined { .. }) => "emit:quarantined",
        Action::Emit(Event::StoreSelected) => "emit:store-selected",
        Action::Get { step, .. } => step_label(*step, "get"),
        Action::Put { step, .. } => step_label(*step, "put"),
        Action::Delete { step, .. } => step_label(*step, "delete"),
        Action::List { step, .. } => step_label(*step, "list"),
        Action::Lock { step, .. } => step_label(*step, "lock"),
        Action::Quarantine { .. } => "quarantine",
        Action::Unlock { name: LockName::Drain } => "unlock:drain",
        Action::Unlock { .. } => "unlock:key",
        Action::Pending { .. } => "pending",
        Action::CloseStore => "close-store",
        Action::Emit(Event::Workflow { .. }) => "emit:workflow",
        Action::PutRun { .. } => "put:run-journal",
        Action::Execute { .. } => "execute",
        Action::StepGo { .. } => "step-go",
        Action::StepCommitted { .. } => "step-committed",
        Action::StepFailed { .. } => "step-failed",
        Action::Undo { .. } => "undo",
        Action::RunStarted { .. } => "run-started",
        Action::RunEnded { .. } => "run-ended",
        Action::Runs { .. } => "runs",
        Action::Started { .. } => "started",
        Action::Flush => "flush",
        Action::StopRuns => "stop-runs",
        Action::Keep { .. } => "put:result-keep",
        Action::Kept { .. } => "kept",
        Action::Announce { .. } => "announce",
        Action::Drained { .. } => "drained",
        Action::RegisterSync => "register-sync",
    }
}

impl Host {
    pub fn new(sim: &Rc<Sim>, slot: usize) -> Rc<Host> {
        let instance = sim.next_instance.get();
        sim.next_instance.set(instance + 1);
        let cfg = &sim.cfg;
        let options = Options {
            policy: cfg.policy.clone(),
            breaker: cfg.breaker,
            ttl_ms: cfg.ttl_ms,
            workflows: vec![WORKFLOW.into()],
            retry_budget: cfg.budget,
            ..Options::default()
        };
        let seed = sim.rng.borrow_mut().next_u64();
        let online = !sim.device_offline.get();
        // Tabs (Web Locks) hear each other; processes sharing an adapter do not.
        let config = EngineConfig { options, persistent: true, seed, online, sync_api: cfg.drains.sync_api, shared: cfg.web_locks };
        sim.fleet.borrow_mut().started(instance, sim.exec.now());
        let mut engine = Engine::new(config);
        engine.mutant = cfg.mutant;
        engine.set_listening(u32::MAX);
        Rc::new(Host {
            sim: sim.clone(),
            instance,
            slot,
            alive: Cell::new(true),
            closed: Cell::new(false),
            engine: RefCell::new(engine),
            calls: RefCell::new(BTreeMap::new()),
            next_call: Cell::new(0),
            sending: RefCell::new(BTreeMap::new()),
            cancelled: RefCell::new(BTreeSet::new()),
            payloads: RefCell::new(BTreeMap::new()),
            held: RefCell::new(BTreeSet::new()),
            realm_waiting: RefCell::new(BTreeMap::new()),
            held_deletes: RefCell::new(Vec::new()),
            timer: Cell::new(0),
            timer_at: Cell::new(None),
            waiters: RefCell::new(BTreeMap::new()),
            execs: RefCell::new(BTreeSet::new()),
            threw: RefCell::new(BTreeSet::new()),
            hearing: Cell::new(false),
            opened: RefCell::new(Vec::new()),
            check: Checker::new(!online),
        })
    }

    /// The wall clock (which jumps) and the virtual monotonic clock.
    fn now(&self) -> Now {
        Now { wall: Wall(self.sim.now_ms()), mono: Mono(self.sim.exec.now() as f64) }
    }

    /// Runs `f` on the engine, then performs what it asks.
    fn with_engine(self: &Rc<Self>, f: impl FnOnce(&mut Engine, Now)) {
        if !self.alive.get() {
            return;
        }
        let now = self.now();
        f(&mut self.engine.borrow_mut(), now);
        self.drive();
    }

    // ---- what the application and the world do --------------------------

    pub fn fetch(self: &Rc<Self>, call: Call, on_done: impl FnOnce(CallResult) + 'static) {
        let id = self.next_call.get() + 1;
        self.next_call.set(id);
        let random = app::random16(&self.sim);
        // Check only: the key the engine makes of the step's key and the
        // request's place in it, or of these bytes when the call has none.
        let step_key = call.from_step.as_ref().map(|(step, n)| format!("{step}:{n}"));
        let key = call.key.clone().or(step_key).unwrap_or_else(|| uuid_v4(random));
        self.sim.ledger.borrow_mut().key_assigned(&key, call.op);
        let durable = self.engine.borrow().is_durable(call.durable);
        self.sim.ledger.borrow_mut().ops[call.op].durable = durable;
        let started = (!durable).then(|| self.sim.exec.now());
        self.calls.borrow_mut().insert(
            id,
            CallState {
                op: call.op,
                id: call.id,
                key: key.clone(),
                url: call.url.clone(),
                body: call.body.clone(),
                durable,
                resubmission: call.resubmission,
                signal: call.signal.clone(),
                started,
                floor: 0,
                on_done: Some(Box::new(on_done)),
            },
        );
        let weak = Rc::downgrade(self);
        call.signal.on_abort(move || {
            if let Some(host) = weak.upgrade() {
                host.with_engine(|engine, now| engine.abort(now, CallId(id)));
            }
        });
        let request = CallRequest {
            call: CallId(id),
            method: "POST".into(),
            url: call.url,
            key: call.key.map_or(Arg::Absent, Arg::Given),
            header_key: None,
            random,
            body: Some(call.body),
            headers: vec![("content-type".into(), "application/json".into())],
            durable: call.durable.map_or(Arg::Absent, Arg::Given),
            aborted: false,
            from_step: call.from_step.clone(),
        };
        self.with_engine(|engine, now| {
            if let Err(refused) = engine.call(now, request) {
                panic!("the simulation's call was refused: {refused:?}");
            }
        });
    }

    /// `createClient()`: the engine starts (reading the store for runs an
    /// earlier page left), answers, and resends what is stored on a later task.
    pub fn start(self: &Rc<Self>) {
        let id = self.next_id();
        self.waiters.borrow_mut().insert(id, Waiter::Created);
        self.with_engine(|engine, now| engine.start(now, CallId(id)));
    }

    /// `client.resume()`.
    pub fn resume(self: &Rc<Self>) {
        let exec_now = self.sim.exec.now();
        let asked = self.calls.borrow().values().filter(|c| c.floor > exec_now).count() as u64;
        self.sim.ledger.borrow_mut().checks.asked_waits_at_wake += asked;
        self.sim.log(|| format!("c{} resume()", self.instance));
        self.with_engine(|engine, now| {
            engine.resume(now);
        });
    }

    /// The 'online' event.
    pub fn online(self: &Rc<Self>) {
        self.sim.fleet.borrow_mut().closed(None);
        let exec_now = self.sim.exec.now();
        let asked = self.calls.borrow().values().filter(|c| c.floor > exec_now).count() as u64;
        self.sim.ledger.borrow_mut().checks.asked_waits_at_wake += asked;
        self.check.told(false);
        self.with_engine(|engine, now| engine.online(now));
    }

    /// Another tab's announcement arrives (BroadcastChannel).
    pub fn hear(self: &Rc<Self>, note: &[u8]) {
        self.hearing.set(true);
        self.with_engine(|engine, now| engine.heard(now, note));
        self.hearing.set(false);
    }

    /// `client.drain()`, or a sync event's drain.
    pub fn drain(self: &Rc<Self>, why: DrainFor) {
        let id = self.next_id();
        let last_chance = why == DrainFor::Sync { last_chance: true };
        let ask = DrainAsk { stored: drains::stored_ops(&self.sim), last_chance };
        self.waiters.borrow_mut().insert(id, Waiter::Drain(ask));
        self.sim.log(|| format!("c{} drain() for {why:?}", self.instance));
        self.with_engine(|engine, now| engine.drain(now, CallId(id), why));
    }

    /// The page is shown ('visibilitychange' to visible).
    pub fn visible(self: &Rc<Self>) {
        self.sim.log(|| format!("c{} visible", self.instance));
        self.with_engine(|engine, now| engine.visible(now));
    }

    /// `drain()` calls not answered yet.
    pub fn drains_waiting(&self) -> usize {
        self.waiters.borrow().values().filter(|w| matches!(w, Waiter::Drain(_))).count()
    }

    pub fn offline(self: &Rc<Self>) {
        self.check.told(true);
        self.with_engine(|engine, now| engine.offline(now));
    }

    pub fn close(self: &Rc<Self>) {
        self.closed.set(true);
        self.stop_runs();
        self.sim.log(|| format!("c{} close()", self.instance));
        self.with_engine(|engine, now| engine.close(now));
    }

    /// The tab dies: everything it held in memory is gone, its locks too.
    pub fn die(&self) {
        self.alive.set(false);
        self.sim.fleet.borrow_mut().died(self.instance);
        self.opened.borrow_mut().clear();
        self.stop_runs();
        self.sending.borrow_mut().clear();
        self.cancelled.borrow_mut().clear();
        self.held_deletes.borrow_mut().clear();
        self.sim.locks_die_with(self.instance);
    }

    // ---- workflows (io/runs.js; tests/sim/workflows.rs) -------------------

    fn next_id(&self) -> u32 {
        let id = self.next_call.get() + 1;
        self.next_call.set(id);
        id
    }

    /// `client.start('checkout', r, { id: 'run-r' })`.
    pub fn start_run(self: &Rc<Self>, r: usize) {
        let id = self.next_id();
        self.waiters.borrow_mut().insert(id, Waiter::Start(r));
        let mut random = [0u8; 32];
        random[..16].copy_from_slice(&app::random16(&self.sim));
        self.sim.log(|| format!("c{} start run-{r}", self.instance));
        self.with_engine(|engine, now| {
            let started = engine.start_run(now, CallId(id), Arg::Given(run_id(r)), WORKFLOW.into(), &r.to_string(), random);
            started.expect("a valid run");
        });
    }

    /// `client.result(key)`.
    pub fn result(self: &Rc<Self>, key: String, done: impl FnOnce(Option<CallResult>) + 'static) {
        let id = self.next_id();
        self.waiters.borrow_mut().insert(id, Waiter::Result(Box::new(done)));
        self.with_engine(|engine, now| engine.result_of(now, CallId(id), Arg::Given(key)).expect("a valid key"));
    }

    /// On a later task, as a promise continuation runs: the workflow's code.
    fn soon(self: &Rc<Self>, f: impl FnOnce(&Rc<Host>) + 'static) {
        let host = self.clone();
        self.sim.exec.after(0, move || {
            if host.alive.get() {
                f(&host);
            }
        });
    }

    /// The workflow's code reaches step `index` (or returns after the last).
    fn reach(self: &Rc<Self>, r: usize, index: u32) {
        if !self.execs.borrow().contains(&r) {
            return;
        }
        let id = run_id(r);
        if index == STEPS {
            self.stop_run(r);
            return self.with_engine(|engine, now| engine.run_input(now, &id, RunInput::Returned).expect("a valid step"));
        }
        self.with_engine(|engine, now| engine.run_input(now, &id, RunInput::Reached { index, name: step_name(index), undo: false }).expect("a valid step"));
    }

    /// The step's request answered `status`: the step returned that
    /// Response (the engine decides whether that status fails it).
    pub fn step_done(self: &Rc<Self>, id: &str, index: u32, status: u16) {
        let id = id.to_string();
        self.check.step_answered(&id, index, status);
        self.soon(move |h| h.with_engine(|engine, now| engine.run_input(now, &id, RunInput::StepDone { index, name: step_name(index), status: Some(status) }).expect("a valid step")));
    }

    /// Step `index`'s request failed, so its body threw (as a step's fetch
    /// rejecting does in io/runs.js): the engine decides what follows.
    pub fn step_threw(self: &Rc<Self>, id: &str, index: u32) {
        self.threw.borrow_mut().insert((id.to_string(), index));
        let id = id.to_string();
        self.soon(move |h| h.with_engine(|engine, now| engine.run_input(now, &id, RunInput::StepThrew { index }).expect("a valid step")));
    }

    fn stop_run(&self, r: usize) {
        self.execs.borrow_mut().remove(&r);
        let mut ledger = self.sim.ledger.borrow_mut();
        if ledger.runs[r].executing == Some(self.instance) {
            ledger.runs[r].executing = None;
        }
    }

    /// The tab died or closed: the code of its runs stops where it is.
    fn stop_runs(&self) {
        let runs: Vec<usize> = self.execs.borrow().iter().copied().collect();
        runs.into_iter().for_each(|r| self.stop_run(r));
    }

    fn execute(self: &Rc<Self>, id: &str) {
        let Some(r) = run_of(id) else {
            return self.violation(format!("c{}: execute of unknown run {id}", self.instance));
        };
        {
            let mut ledger = self.sim.ledger.borrow_mut();
            let other = ledger.runs[r].executing.filter(|&i| i != self.instance);
            if let (Some(other), true) = (other, self.sim.cfg.web_locks) {
                ledger.violations.push(format!("two runners: c{} executes {id} while c{other} runs it", self.instance));
            }
            ledger.runs[r].executing = Some(self.instance);
        }
        self.execs.borrow_mut().insert(r);
        self.soon(move |h| h.reach(r, 0));
    }

    fn step_go(self: &Rc<Self>, id: &str, index: u32, go: StepGo) {
        let Some(r) = run_of(id) else { return };
        match go {
            StepGo::Replay => self.soon(move |h| h.reach(r, index + 1)),
            StepGo::Run { key } => self.soon(move |h| workflows::run_step(h, r, index, key)),
            StepGo::Mismatch => self.violation(format!("c{}: {id} mismatched at step {index}: the code never changes", self.instance)),
        }
    }

    fn answer_waiter(&self, call: CallId, result: Option<CallResult>) -> bool {
        let Some(waiter) = self.waiters.borrow_mut().remove(&call.0) else {
            return false;
        };
        match waiter {
            Waiter::Created => {}
            Waiter::Start(r) => {
                if result.is_none() {
                    self.sim.ledger.borrow_mut().runs[r].started = true;
                }
            }
            Waiter::Result(done) => done(result),
            Waiter::Drain(_) => match result {
                Some(CallResult::Failed(kind)) if drains::refused(kind) => {}
                other => self.violation(format!("c{}: drain() ended with {other:?}", self.instance)),
            },
        }
        true
    }

    /// Calls still waiting for their result here.
    pub fn waiting_ops(&self) -> Vec<usize> {
        self.calls.borrow().values().map(|c| c.op).collect()
    }

    /// Payloads the engine never handed on nor dropped (checked once idle).
    pub fn leaked(&self) -> Vec<String> {
        self.payloads.borrow().iter().map(|(io, p)| format!("io {io}: {p:?}")).collect()
    }

    // ---- performing ------------------------------------------------------

    fn store_fault(&self) -> bool {
        let fails = self.sim.fault(self.sim.cfg.p_store_fail);
        self.sim.ledger.borrow_mut().faults.store_failures += fails as u64;
        fails
    }

    fn crash_here(self: &Rc<Self>, label: &'static str) -> bool {
        let cfg = &self.sim.cfg;
        let p = match cfg.focus_crash {
            Some((focus, p)) if focus == label => p,
            _ => cfg.p_crash_step,
        };
        if self.sim.fault(p) {
            if !app::crash(&self.sim, self.slot, self.instance, label) {
                // A closed page, still ending a cancelled fetch: it dies, and the browser frees its locks.
                self.die();
                self.sim.log(|| format!("c{} CRASH at {label} (closed)", self.instance));
            }
            return true;
        }
        false
    }

    fn drive(self: &Rc<Self>) {
        loop {
            if !self.alive.get() {
                return;
            }
            let action = self.engine.borrow_mut().poll_action();
            let Some(action) = action else { break };
            if self.crash_here(label(&action)) {
                return;
            }
            self.perform(action);
        }
        // The engine has done all it had to: the others have been told.
        let now = self.sim.exec.now();
        for origin in self.opened.borrow_mut().drain(..) {
            self.sim.fleet.borrow_mut().opened(self.instance, &origin, now);
        }
        self.arm_timer();
    }

    /// One timer, as io/host.js keeps it: none asked leaves a pending one
    /// to fire, and an earlier one pending stands (the engine, woken early,
    /// checks what is due).
    fn arm_timer(self: &Rc<Self>) {
        let Some(at) = self.engine.borrow().poll_timeout() else {
            return;
        };
        if self.timer_at.get().is_some_and(|pending| pending <= at.0) {
            return;
        }
        let generation = self.timer.get() + 1;
        self.timer.set(generation);
        self.timer_at.set(Some(at.0));
        let delay = (at - self.now().mono).max(0.0).ceil() as u64;
        let host = self.clone();
        self.sim.exec.after(delay, move || {
            if host.timer.get() == generation {
                host.timer_at.set(None);
                // Check only: nothing is due (a later wake-up replaced this one in the engine).
                let due = host.engine.borrow().poll_timeout();
                if due.map_or(true, |due| due > host.now().mono) {
                    host.sim.ledger.borrow_mut().checks.early_wakeups += 1;
                }
                host.with_engine(|engine, now| engine.handle_timeout(now));
            }
        });
    }

    /// Delivers a completion after `delay`, unless the tab dies first.
    fn later(self: &Rc<Self>, delay: u64, label: &'static str, f: impl FnOnce(&Rc<Host>, &mut Engine, Now) + 'static) {
        let host = self.clone();
        self.sim.exec.after(delay, move || {
            if !host.alive.get() || host.crash_here(label) {
                return;
            }
            let now = host.now();
            f(&host, &mut host.engine.borrow_mut(), now);
            host.drive();
        });
    }

    fn hold(&self, io: Io, payload: Payload) {
        self.sim.log(|| format!("c{} holds io {} {payload:?}", self.instance, io.0));
        if self.payloads.borrow_mut().insert(io.0, payload).is_some() {
            self.violation(format!("c{}: two payloads under io {}", self.instance, io.0));
        }
    }

    fn take(&self, io: Io, why: &str) -> Option<Payload> {
        let found = self.payloads.borrow_mut().remove(&io.0);
        if found.is_none() {
            self.violation(format!(
                "c{}: {why} io {}, which holds nothing (used twice, or never held)",
                self.instance, io.0
            ));
        }
        found
    }

    fn violation(&self, what: String) {
        self.sim.ledger.borrow_mut().violations.push(what);
    }

    fn call_by_key(&self, key: &str) -> Option<u32> {
        self.calls.borrow().iter().find(|(_, c)| c.key == key).map(|(id, _)| *id)
    }

    fn perform(self: &Rc<Self>, action: Action) {
        match action {
            // The attempt number is counted from what the network carries.
            Action::Send { io, source, key, timeout_ms, .. } => self.send(io, source, key, timeout_ms),
            // The host aborts the fetch: its promise rejects (AbortError) on
            // a later task, and the host reports that end like any other.
            // The request itself may still reach the server: the network
            // already has it.
            Action::Cancel { io } => {
                self.sim.log(|| format!("c{} cancel io {}", self.instance, io.0));
                self.sim.fleet.borrow_mut().ended(self.instance, io.0, false);
                self.check.cancelled(io.0);
                self.cancelled.borrow_mut().insert(io.0);
                // A fetch rejects on abort at once, or (a custom fetch, an
                // upload in progress) a while later: its request stays on
                // the wire until then.
                let late = if self.sim.draw(0, 1) == 0 { 0 } else { self.sim.draw(1, 2_000) };
                self.later(late, "reply:aborted", move |host, engine, now| host.aborted(engine, now, io));
            }
            Action::Resolve { call, response, last } => {
                let status = match self.payloads.borrow().get(&response.0) {
                    Some(Payload::Response(status)) => Some(*status),
                    _ => None,
                };
                if last {
                    self.take(response, "resolve with");
                }
                match status {
                    Some(status) if self.answer_waiter(call, Some(CallResult::Status(status))) => {}
                    Some(status) => self.end_call(call, CallResult::Status(status)),
                    None => self.violation(format!(
                        "c{}: resolve with io {}, which holds no response",
                        self.instance, response.0
                    )),
                }
            }
            Action::Reject { call, failure } => {
                if let Some(Cause::Io(io)) = failure.cause {
                    self.take(io, "reject with the cause in");
                }
                if !self.answer_waiter(call, Some(CallResult::Failed(failure.kind))) {
                    self.end_call(call, CallResult::Failed(failure.kind));
                }
            }
            Action::Release { io } => {
                self.take(io, "release");
            }
            Action::Emit(event) => self.event(event),
            Action::Get { io, key, step } => {
                let fails = self.store_fault();
                // Read now, heard a round trip later: what it read may be stale by then.
                let value = self.sim.store.borrow().get(&key).cloned();
                self.later(STORE_MS, step_label(step, "done"), move |host, engine, now| {
                    if fails {
                        host.hold(io, Payload::Cause);
                        return engine.got(now, io, Err(()));
                    }
                    if let Some(Ok(kept)) = value.as_ref().and_then(|v| v.data.as_deref()).map(KeptResult::decode) {
                        host.hold(io, Payload::Kept(kept.status));
                    }
                    engine.got(now, io, Ok(value.map(|v| v.read())));
                });
            }
            Action::Put { io, record, step } => {
                // A put goes at once, with the deletes held back so far.
                self.flush_deletes();
                if step == Step::CallPersist {
                    // A new record (a resubmission may follow a settled one): a new life.
                    let op = self.sim.ledger.borrow().key_op.get(&record.key).copied();
                    if let Some(op) = op {
                        let mut ledger = self.sim.ledger.borrow_mut();
                        ledger.ops[op].settled_at = None;
                        ledger.ops[op].linked = None;
                    }
                }
                let fails = self.store_fault();
                let sim = self.sim.clone();
                // Committed at the end of the round trip, dead tab or not.
                self.sim.exec.after(STORE_MS, move || {
                    if !fails {
                        sim.store.borrow_mut().insert(record.key.clone(), StoredValue::new(&record.key, record.encode()));
                        sim.ledger.borrow_mut().record_written(&record.key);
                        sim.log(|| {
                            format!("put {} attempts {} next {}", record.key, record.attempts, record.next_attempt_at.0)
                        });
                    }
                });
                self.later(STORE_MS, step_label(step, "done"), move |host, engine, now| {
                    if fails {
                        host.hold(io, Payload::Cause);
                    }
                    engine.wrote(now, io, if fails { Err(()) } else { Ok(()) });
                });
            }
            // Held back up to DELETE_DELAY_MS to share a transaction with
            // other writes (io/idb.js): a tab that dies meanwhile loses it,
            // and the record stays (its answer was reported already).
            Action::Delete { io, key, step } => {
                if step == Step::ResultDelete {
                    self.note_kept_expiry(&key);
                }
                self.held_deletes.borrow_mut().push(Box::new(move |host: &Rc<Host>| host.delete_now(io, key, step)));
                let host = self.clone();
                self.sim.exec.after(DELETE_DELAY_MS, move || {
                    if host.alive.get() {
                        host.flush_deletes();
                    }
                });
            }
            Action::List { io, step } => {
                let fails = self.store_fault();
                let values: Vec<StoredValue> = self.sim.store.borrow().values().cloned().collect();
                self.later(LIST_MS, step_label(step, "done"), move |host, engine, now| {
                    if fails {
                        host.hold(io, Payload::Cause);
                        return engine.listed(now, io, Err(()));
                    }
                    if step == Step::DrainList {
                        host.observe_listing(&values);
                    }
                    let decoded = values.iter().map(StoredValue::read).collect();
                    host.hold(io, Payload::Listing(values));
                    engine.listed(now, io, Ok(decoded));
                });
            }
            Action::Quarantine { io, listing, index, .. } => {
                let value = match self.payloads.borrow().get(&listing.0) {
                    Some(Payload::Listing(values)) => values.get(index as usize).cloned(),
                    _ => None,
                };
                let Some(value) = value else {
                    return self
                        .violation(format!("c{}: quarantine of a listing the host no longer holds", self.instance));
                };
                let moves = self.sim.cfg.quarantine_moves;
                self.later(STORE_MS, "done:quarantine", move |host, engine, now| {
                    if moves {
                        let key = value.key.clone().unwrap_or_default();
                        let removed = host.sim.store.borrow_mut().remove(&key);
                        host.sim.quarantine.borrow_mut().extend(removed);
                    }
                    engine.quarantined(now, io, Ok(moves));
                });
            }
            Action::Lock { io, name, wait, step } => self.lock(io, name, wait, step),
            Action::Announce { note } => self.announce(note),
            Action::Unlock { name } => {
                self.sim.log(|| format!("c{} unlock {name:?}", self.instance));
                let drain = name == LockName::Drain;
                let name = lock_name(&name);
                let next = self.realm_waiting.borrow_mut().get_mut(&name).and_then(|q| q.pop_front());
                if self.sim.cfg.web_locks {
                    self.sim.lock_release(&name, self.instance);
                }
                match next {
                    // Still held here, now by the next in line.
                    Some((io, step)) => self.web_lock(io, name.clone(), true, step),
                    None => {
                        self.held.borrow_mut().remove(&name);
                    }
                }
                if drain {
                    self.sim.log(|| format!("c{} drain round ends", self.instance));
                    self.check.round_ended(self.instance, self.sim.exec.now(), &mut self.sim.ledger.borrow_mut());
                }
            }
            Action::PutRun { io, key, meta, .. } => {
                let fails = self.store_fault();
                let sim = self.sim.clone();
                let (value, run) = (StoredValue::new(&key, meta.encode()), run_of(&meta.id));
                self.sim.exec.after(STORE_MS, move || {
                    if fails {
                        return;
                    }
                    sim.store.borrow_mut().insert(key, value);
                    if let Some(r) = run {
                        let mut ledger = sim.ledger.borrow_mut();
                        let log = &mut ledger.runs[r];
                        log.journaled = true;
                        log.committed_steps = log.committed_steps.max(meta.steps.len() as u32);
                        log.state = Some(meta.state.as_str());
                    }
                    sim.log(|| format!("journal {} {} steps {}", meta.id, meta.state.as_str(), meta.steps.len()));
                });
                self.later(STORE_MS, "done:run-journal", move |host, engine, now| {
                    if fails {
                        host.hold(io, Payload::Cause);
                    }
                    engine.wrote(now, io, if fails { Err(()) } else { Ok(()) });
                });
            }
            Action::Keep { io, key, data, status, response, .. } => {
                self.take(response, "keep");
                let fails = self.store_fault();
                let sim = self.sim.clone();
                let k = key.clone();
                self.sim.exec.after(STORE_MS, move || {
                    if !fails {
                        sim.store.borrow_mut().insert(k.clone(), StoredValue::new(&k, data));
                        let mut ledger = sim.ledger.borrow_mut();
                        ledger.settled(&k, sim.exec.now());
                        ledger.kept(&k, sim.exec.now());
                        drop(ledger);
                        sim.log(|| format!("keep {k} {status}"));
                    }
                });
                self.later(STORE_MS, "done:result-keep", move |host, engine, now| {
                    if fails {
                        host.hold(io, Payload::Cause);
                    }
                    engine.wrote(now, io, if fails { Err(()) } else { Ok(()) });
                });
            }
            Action::Kept { call, held, last } => {
                let held = match held {
                    Some(io) if last => self.take(io, "answer with"),
                    Some(io) => self.payloads.borrow().get(&io.0).cloned(),
                    None => None,
                };
                let status = match held {
                    Some(Payload::Kept(status)) => Some(status),
                    None => None,
                    Some(other) => return self.violation(format!("c{}: result answered with {other:?}", self.instance)),
                };
                if !self.answer_waiter(call, status.map(CallResult::Status)) {
                    // A fetch resubmitted with its key after it settled elsewhere: its kept answer.
                    match status {
                        Some(status) => self.end_call(call, CallResult::Status(status)),
                        None => self.violation(format!("c{}: fetch {} answered with no kept result", self.instance, call.0)),
                    }
                }
            }
            Action::Drained { call, settled, remaining, retry } => {
                self.sim.log(|| format!("c{} drained: {settled} settled, {remaining} remaining", self.instance));
                let waiter = self.waiters.borrow_mut().remove(&call.0);
                let Some(Waiter::Drain(ask)) = waiter else {
                    return self.violation(format!("c{}: drained for call {}, which is no drain()", self.instance, call.0));
                };
                if let Some(violation) = drains::answered(&self.sim, self.instance, ask, settled, remaining, retry) {
                    self.violation(violation);
                }
            }
            // The browser answers on a later task; the engine learns whether it took.
            Action::RegisterSync => {
                self.sim.ledger.borrow_mut().checks.sync_registrations += 1;
                let ok = self.sim.cfg.drains.sync_registers;
                self.later(STORE_MS, "done:register-sync", move |_, engine, now| engine.sync_registered(now, ok));
            }
            Action::Execute { id } => self.execute(&id),
            Action::StepGo { id, index, go } => self.step_go(&id, index, go),
            Action::StepCommitted { id, index } => {
                if let Some(status) = self.check.take_step_status(&id, index).filter(|s| *s >= 400) {
                    self.violation(format!("c{}: {id} step {index} committed done on status {status}", self.instance));
                }
                if let Some(r) = run_of(&id) {
                    self.soon(move |h| h.reach(r, index + 1));
                }
            }
            // The step failed: its code stops (io/runs.js rejects the step).
            Action::StepFailed { id, index, status: Some(status) } => {
                // The README: a step whose Response is a 4xx or 5xx fails; 1xx-3xx are answers.
                let answered = self.check.take_step_status(&id, index);
                if status < 400 || answered != Some(status) {
                    self.violation(format!("c{}: {id} step {index} failed on status {status} (answered {answered:?})", self.instance));
                }
                if let Some(r) = run_of(&id) {
                    self.stop_run(r);
                }
            }
            Action::StepFailed { id, index, status: None } => {
                if !self.threw.borrow_mut().remove(&(id.clone(), index)) {
                    self.violation(format!("c{}: {id} step {index} failed as thrown, though it did not throw", self.instance));
                }
                if let Some(r) = run_of(&id) {
                    self.stop_run(r);
                }
            }
            Action::Undo { id, .. } => self.violation(format!("c{}: {id}: an undo, though no step declared one", self.instance)),
            Action::RunStarted { call, .. } => {
                self.answer_waiter(call, None);
            }
            Action::RunEnded { .. } | Action::Runs { .. } => {}
            Action::Started { call } => {
                self.answer_waiter(call, None);
            }
            Action::Flush => self.flush_deletes(),
            Action::StopRuns => self.stop_runs(),
            Action::Pending { .. } => {}
            Action::CloseStore => {
                self.sim.log(|| format!("c{} store closed", self.instance));
                if self.closed.get() {
                    app::retire(&self.sim, self.instance);
                }
                // Its channel closes with its store (io/host.js): it hears and tells no more.
                self.sim.fleet.borrow_mut().died(self.instance);
            }
        }
    }

    fn end_call(&self, call: CallId, result: CallResult) {
        let state = self.calls.borrow_mut().remove(&call.0);
        match state.and_then(|mut s| s.on_done.take()) {
            Some(done) => done(result),
            None => self.violation(format!("c{}: call {} answered twice or unknown", self.instance, call.0)),
        }
    }

    fn send(self: &Rc<Self>, io: Io, source: Source, key: Option<String>, timeout_ms: u64) {
        let sim = self.sim.clone();
        let Some(key) = key else {
            return self.violation("an unkeyed send in a simulation of keyed calls".into());
        };
        let (op_key, body, sender, url, number) = match &source {
            Source::Call(call) => {
                let mut calls = self.calls.borrow_mut();
                let Some(c) = calls.get_mut(&call.0) else {
                    drop(calls);
                    return self.violation(format!("c{}: send for unknown call {}", self.instance, call.0));
                };
                // A durable call's schedule starts when its record is stored
                // and locked, and its first attempt goes at that instant.
                let started = *c.started.get_or_insert(sim.exec.now());
                // The attempt number is counted from what the network carries.
                let attempt = self.check.sent(io.0, &c.key, Some(call.0));
                let sender = Sender::Live {
                    call: c.id,
                    attempt,
                    started,
                    floor: c.floor,
                    resubmission: c.resubmission,
                    aborted: c.signal.aborted(),
                    durable: c.durable,
                };
                (c.key.clone(), c.body.clone(), sender, c.url.clone(), attempt)
            }
            Source::Record(record) => {
                if sim.fault(sim.cfg.p_replay_fail) {
                    sim.ledger.borrow_mut().faults.replay_failures += 1;
                    self.hold(io, Payload::Cause);
                    return self.later(0, "reply:before-replay", move |_, engine, now| {
                        engine.failed(now, io, AttemptFailure::BeforeReplay)
                    });
                }
                self.check.sent(io.0, &record.key, None);
                let sender = Sender::Resend { not_before: record.not_before.0 };
                (record.key.clone(), record.body.clone().unwrap_or_default(), sender, record.url.clone(), record.attempts + 1)
            }
        };
        let stored_key = op_key.clone();
        let op = sim.ledger.borrow().key_op.get(&op_key).copied();
        let Some(op) = op else {
            return self.violation(format!(
                "c{}: sent {op_key}, a key no operation was given (an unreadable record?)",
                self.instance
            ));
        };
        let at = AttemptAt {
            mono: sim.exec.now(),
            wall: self.now().wall.0,
            web_locks: sim.cfg.web_locks,
            record_stored: sim.store.borrow().contains_key(&stored_key),
            max_attempts: sim.cfg.policy.max_attempts,
            deadline_ms: sim.cfg.policy.deadline_ms,
            timeout_ms,
            attempt_timeout_ms: sim.cfg.policy.attempt_timeout_ms,
        };
        sim.ledger.borrow_mut().on_attempt(op, &key, &sender, &at);
        sim.log(|| format!("c{} send {key} op {op} timeout {timeout_ms} io {}", self.instance, io.0));
        sim.fleet.borrow_mut().sent(self.instance, io.0, origin_of(&url), number, sim.exec.now());
        // The host's span for this attempt (io/tracing.js): a resend links
        // to the one its record keeps.
        if let Source::Record(record) = &source {
            sim.ledger.borrow_mut().on_link(op, record.trace.as_deref());
        }
        let trace = sim.ledger.borrow_mut().new_span(op);
        self.engine.borrow_mut().traced(io, &trace);
        // The README: within one origin, no operation is in flight twice at
        // once. One client, always; across tabs, under Web Locks (without
        // them, the README's stated limit). A dead tab's sends are dropped
        // from the registry (the README's limit: its request may still be
        // on the wire when the lock it held is released).
        let senders = sim.in_flight.senders(&op_key);
        if senders.contains(&self.instance) {
            self.violation(format!("c{}: sent {op_key} while its earlier attempt here was still in flight", self.instance));
        } else if let (true, Some(other)) = (sim.cfg.web_locks, senders.first()) {
            self.violation(format!("c{}: sent {op_key} while c{other} had it in flight (Web Locks)", self.instance));
        }
        let guard = sim.in_flight.start(&op_key, self.instance);
        self.sending.borrow_mut().insert(io.0, (op_key.clone(), guard));
        let resend = matches!(source, Source::Record(_));
        let host = self.clone();
        dispatch(
            &sim,
            key,
            body,
            Box::new(move |reply| {
                // Dead, or already ended: nobody hears it.
                if !host.alive.get() || !host.sending.borrow().contains_key(&io.0) {
                    return;
                }
                // Aborted: the abort's rejection ends it, whatever arrived.
                if host.cancelled.borrow().contains(&io.0) {
                    let now = host.now();
                    host.aborted(&mut host.engine.borrow_mut(), now, io);
                    return host.drive();
                }
                host.sending.borrow_mut().remove(&io.0);
                let definitive = matches!(reply, Reply::Answered { status, .. } if !host.sim.cfg.policy.retry_on.contains(status));
                host.sim.fleet.borrow_mut().ended(host.instance, io.0, definitive);
                if host.crash_here(if resend { "reply:resend" } else { "reply:live" }) {
                    return;
                }
                let now = host.now();
                match reply {
                    Reply::Answered { status, retry_after } => {
                        let asked = retry_after.as_deref().and_then(|v| parse_retry_after(v, now.wall));
                        host.check.answered(io.0, &op_key, status, asked);
                        host.sim.log(|| format!("c{} {op_key} -> {status}", host.instance));
                        host.hold(io, Payload::Response(status));
                        host.engine.borrow_mut().answered(now, io, status, retry_after.as_deref());
                    }
                    Reply::Network => {
                        let offline = host.failed_offline(io, Some(&op_key));
                        host.sim.log(|| format!("c{} {op_key} -> network error{}", host.instance, if offline { " (offline)" } else { "" }));
                        host.hold(io, Payload::Cause);
                        host.engine.borrow_mut().failed(now, io, AttemptFailure::Network { offline });
                    }
                }
                host.drive();
            }),
        );
    }

    /// The deletes held back go now, together.
    fn flush_deletes(self: &Rc<Self>) {
        let held = std::mem::take(&mut *self.held_deletes.borrow_mut());
        for delete in held {
            delete(self);
        }
    }

    /// A delete reaches the store: it commits after a round trip, dead tab or not.
    fn delete_now(self: &Rc<Self>, io: Io, key: String, step: Step) {
        let fails = self.store_fault();
        let sim = self.sim.clone();
        // Check only: settled means its latest attempt here got an answer
        // `retryOn` does not retry, and a record (not a kept answer) goes;
        // whatever the engine calls this delete.
        let answered = self.check.settles(&key, &self.sim.cfg.policy.retry_on);
        let k = key.clone();
        let ttl = self.sim.cfg.ttl_ms as f64;
        self.sim.exec.after(STORE_MS, move || {
            if !fails {
                let removed = sim.store.borrow_mut().remove(&k);
                // Check only: a kept answer removed unread past its TTL.
                let kept = removed.and_then(|v| KeptResult::decode(v.data.as_deref()?).ok());
                if kept.as_ref().is_some_and(|kept| kept.settled_at.0 + ttl <= sim.now_ms()) {
                    let op = sim.ledger.borrow().key_op.get(&k).copied();
                    if let Some(op) = op {
                        sim.ledger.borrow_mut().ops[op].kept_expired = true;
                    }
                }
                if answered && kept.is_none() {
                    sim.ledger.borrow_mut().settled(&k, sim.exec.now());
                }
                sim.log(|| format!("delete {k}"));
            }
        });
        // A kept answer whose delete after a read failed is still there to read.
        if fails && step == Step::ResultDelete {
            self.sim.ledger.borrow_mut().kept(&key, self.sim.exec.now());
        }
        if fails && step == Step::CallAborted {
            let op = self.sim.ledger.borrow().key_op.get(&key).copied();
            if let Some(op) = op {
                self.sim.ledger.borrow_mut().ops[op].abort_delete_failed = true;
            }
        }
        self.later(STORE_MS, step_label(step, "done"), move |host, engine, now| {
            if fails {
                host.hold(io, Payload::Cause);
            }
            engine.wrote(now, io, if fails { Err(()) } else { Ok(()) });
        });
    }

    /// Check only: a kept answer deleted unread past its TTL is expired from
    /// the moment that is decided (a `result(key)` that comes after hears
    /// nothing, before the delete commits).
    fn note_kept_expiry(&self, key: &str) {
        let ttl = self.sim.cfg.ttl_ms as f64;
        let kept = self.sim.store.borrow().get(key).and_then(|v| KeptResult::decode(v.data.as_deref()?).ok());
        if kept.is_some_and(|kept| kept.settled_at.0 + ttl <= self.sim.now_ms()) {
            let op = self.sim.ledger.borrow().key_op.get(key).copied();
            if let Some(op) = op {
                self.sim.ledger.borrow_mut().ops[op].kept_expired = true;
            }
        }
    }

    /// A cancelled attempt's fetch ended: its promise rejected (AbortError).
    /// An attempt's fetch failed: the platform's fact (navigator.onLine),
    /// maybe ahead of its 'offline' event, goes with it.
    fn failed_offline(&self, io: Io, key: Option<&str>) -> bool {
        let offline = self.sim.device_offline.get();
        self.check.failed(io.0, key, offline);
        self.sim.ledger.borrow_mut().checks.offline_failures += offline as u64;
        offline
    }

    fn aborted(&self, engine: &mut Engine, now: Now, io: Io) {
        let (c, sd) = (self.cancelled.borrow().contains(&io.0), self.sending.borrow().contains_key(&io.0));
        self.sim.log(|| format!("c{} abort of io {} ends its fetch {c} {sd}", self.instance, io.0));
        if self.cancelled.borrow_mut().remove(&io.0) && self.sending.borrow_mut().remove(&io.0).is_some() {
            let offline = self.failed_offline(io, None);
            self.hold(io, Payload::Cause);
            engine.failed(now, io, AttemptFailure::Network { offline });
        }
    }

    fn event(self: &Rc<Self>, event: Event) {
        let now = self.sim.exec.now();
        match event {
            Event::Retry { key, attempt, delay_ms, resumed, .. } => {
                let Some(key) = key else { return };
                let asked = self.check.take_asked(&key);
                let op = self.sim.ledger.borrow().key_op.get(&key).copied().unwrap_or(usize::MAX);
                let backoff = self.sim.cfg.policy.backoff;
                self.sim.ledger.borrow_mut().on_wait(op, attempt.saturating_sub(1), delay_ms, asked, backoff);
                if let (false, Some(ms)) = (resumed, asked) {
                    if let Some(id) = self.call_by_key(&key) {
                        if let Some(c) = self.calls.borrow_mut().get_mut(&id) {
                            c.floor = now + ms;
                        }
                    }
                }
            }
            Event::Settled { key, status, response, .. } => {
                if let Some((io, true)) = response {
                    self.take(io, "emit 'settled' with");
                }
                if let Some(key) = key {
                    self.report(&key, Report::Settled(status));
                }
            }
            Event::GiveUp { key: Some(key), reason: GiveUpReason::Expired, .. } => {
                self.check_no_sender(&key);
                self.report(&key, Report::Expired);
            }
            Event::StoreError(failure) => {
                self.sim.ledger.borrow_mut().faults.store_errors_reported += 1;
                if let Some(Cause::Io(io)) = failure.cause {
                    self.take(io, "emit a store error with");
                }
            }
            Event::Quarantined { key, moved, .. } => {
                let mut ledger = self.sim.ledger.borrow_mut();
                ledger.checks.quarantined_reports += 1;
                ledger.quarantined_keys.insert(key.clone());
                if !ledger.corrupt_keys.contains(&key) {
                    drop(ledger);
                    self.violation(format!("c{}: quarantined {key}, which the clients wrote", self.instance));
                } else if moved != self.sim.cfg.quarantine_moves {
                    drop(ledger);
                    self.violation(format!("c{}: quarantine of {key} said moved={moved}", self.instance));
                }
            }
            Event::Queued { key, reason, .. } => {
                self.sim.fleet.borrow_mut().figures.budget_refusals += (reason == QueueReason::Budget) as u64;
                self.sim.log(|| format!("c{} queued {key} ({})", self.instance, reason.as_str()));
                if reason == QueueReason::Exhausted {
                    self.check_exhausted(&key);
                }
            }
            Event::GiveUp { key: Some(key), reason: GiveUpReason::Exhausted, .. } => self.check_exhausted(&key),
            Event::GiveUp { reason: GiveUpReason::Budget, .. } => self.sim.fleet.borrow_mut().figures.budget_refusals += 1,
            Event::Breaker { origin, state } => match state {
                Transition::Opened if !self.hearing.get() => self.opened.borrow_mut().push(origin),
                Transition::Closed => self.sim.fleet.borrow_mut().closed(Some(&origin)),
                _ => {}
            },
            Event::GiveUp { .. } | Event::Workflow { .. } | Event::StoreSelected => {}
        }
    }

    /// A live call ran out of attempts: it made exactly maxAttempts that
    /// counted, as the network saw them (a failure while the device was
    /// offline counts for nothing).
    fn check_exhausted(&self, key: &str) {
        let Some(id) = self.call_by_key(key) else { return };
        let sent = self.check.counted(id);
        let max = self.sim.cfg.policy.max_attempts;
        self.sim.ledger.borrow_mut().checks.exhausted_checked += 1;
        if sent != max {
            self.violation(format!("c{}: {key} ran out of attempts after {sent} that counted, maxAttempts {max}", self.instance));
        }
    }

    fn report(&self, key: &str, report: Report) {
        self.sim.log(|| format!("c{} report {key} {report:?}", self.instance));
        self.sim.ledger.borrow_mut().report(key, report, self.sim.exec.now());
    }

    /// The engine's news goes to every other tab of the seed, a channel hop
    /// later (BroadcastChannel): those open now hear it, if still alive.
    fn announce(self: &Rc<Self>, note: Vec<u8>) {
        let now = self.sim.exec.now();
        let mut peers = self.sim.alive_clients();
        peers.extend(self.sim.closing.borrow().iter().filter(|h| h.alive.get()).cloned());
        for peer in peers.into_iter().filter(|p| p.instance != self.instance) {
            let (note, sim, from) = (note.clone(), self.sim.clone(), self.instance);
            self.sim.exec.after(CHANNEL_MS, move || {
                if peer.alive.get() {
                    sim.fleet.borrow_mut().delivered(from, peer.instance, now, sim.exec.now());
                    peer.hear(&note);
                }
            });
        }
    }

    fn lock(self: &Rc<Self>, io: Io, name: LockName, wait: bool, step: Step) {
        let name = lock_name(&name);
        if self.held.borrow().contains(&name) {
            // Held in this process already: queue for it, or refused at once.
            if wait {
                self.realm_waiting.borrow_mut().entry(name).or_default().push_back((io, step));
                return;
            }
            let key = name.strip_prefix("key:").map(str::to_string);
            return self.lock_granted(io, key, step, false);
        }
        self.held.borrow_mut().insert(name.clone());
        self.web_lock(io, name, wait, step);
    }

    /// Held in this process: now the Web Lock, where the platform has them.
    fn web_lock(self: &Rc<Self>, io: Io, name: String, wait: bool, step: Step) {
        let key = name.strip_prefix("key:").map(str::to_string);
        if !self.sim.cfg.web_locks {
            return self.lock_granted(io, key, step, true);
        }
        let host = self.clone();
        let n = name.clone();
        self.sim.lock_request(
            &name,
            self.instance,
            wait,
            Box::new(move |granted| {
                if !host.alive.get() {
                    return;
                }
                if !granted {
                    host.held.borrow_mut().remove(&n);
                }
                host.lock_granted(io, key, step, granted);
            }),
        );
    }

    fn lock_granted(self: &Rc<Self>, io: Io, key: Option<String>, step: Step, granted: bool) {
        let _ = &key;
        let exec_now = self.sim.exec.now();
        self.sim.log(|| {
            format!(
                "c{} lock {} {key:?}: {}",
                self.instance,
                step_label(step, "lock"),
                if granted { "granted" } else { "refused" }
            )
        });
        match step {
            Step::DrainLock if granted => {
                self.check.round_started(exec_now)
            }
            Step::ResendLock => self.check.resend_lock(granted),
            Step::ExpireLock if !granted => self.sim.ledger.borrow_mut().checks.expiries_left_to_holder += 1,
            _ => {}
        }
        self.later(0, step_label(step, "done"), move |_, engine, now| engine.locked(now, io, granted));
    }

    /// Check only: what a drain round's listing shows.
    fn observe_listing(&self, values: &[StoredValue]) {
        let now = self.now().wall;
        let ttl = self.sim.cfg.ttl_ms as f64;
        let busy: BTreeSet<String> = self.sending.borrow().values().map(|(k, _)| k.clone()).collect();
        let records: Vec<Record> = values.iter().filter_map(|v| Record::decode(v.data.as_deref()?).ok()).collect();
        let mut ledger = self.sim.ledger.borrow_mut();
        ledger.checks.in_flight_past_ttl +=
            records.iter().filter(|r| busy.contains(&r.key) && now >= r.created_at + ttl).count() as u64;
        ledger.checks.marked_expired_before_ttl +=
            records.iter().filter(|r| r.expired_at.is_some() && now < r.created_at + ttl).count() as u64;
    }

    /// Check only: no attempt of a record we expire is in flight (with Web
    /// Locks; without them, only this process's own can be ruled out).
    fn check_no_sender(&self, key: &str) {
        let senders = self.sim.in_flight.senders(key);
        if senders.iter().any(|&i| self.sim.cfg.web_locks || i == self.instance) {
            let mut ledger = self.sim.ledger.borrow_mut();
            ledger.checks.expired_under_sender += 1;
            let at = self.sim.exec.now();
            let what = format!(
                "expired under its sender: client {} expired {key} at t={at} ms while {senders:?} sent it",
                self.instance
            );
            ledger.violations.push(what);
        }
    }
}

/// The lock's name, as io/host.js names it (without its `durafetch:` prefix).
fn lock_name(name: &LockName) -> String {
    match name {
        LockName::Drain => "drain".into(),
        LockName::Key(key) => ["key:", key].concat(),
        LockName::Probe(origin) => ["probe:", origin].concat(),
    }
}
