//! Workflow runs in the simulation: the application starts checkouts of
//! STEPS steps, each step one keyed POST through the engine, and the host
//! plays io/runs.js: it runs the workflow's code when the engine says
//! Execute, asks at each step whether to run or replay it, journals a
//! step's answer through `step_done`, and waits for an operation that ended
//! 'queued' through `result(key)`, as a step's fetch does. Tabs die before
//! any journal write or its completion like anywhere else.
//!
//! Checked: a step the journal holds as completed is never run again; two
//! contexts never run one run at once (with Web Locks); every run whose
//! start was answered or journaled ends (no run lost); a run that completed
//! applied each of its steps exactly once (the ops checks do the rest:
//! one key per step, never applied twice).

use std::rc::Rc;

use durafetch::core::contract::ErrorKind;
use durafetch::core::kept::KeptResult;

use super::app::ISSUE_WINDOW_MS;
use super::host::{Abort, Call, CallResult, Host};
use super::ledger::Report;
use super::world::{Draw, Sim};

pub const STEPS: u32 = 3;
pub const WORKFLOW: &str = "checkout";

#[derive(Clone, Debug, Default)]
pub struct RunLog {
    /// start() was answered: the application was told the run exists.
    pub started: bool,
    /// A journal write committed.
    pub journaled: bool,
    /// The steps the committed journal holds as completed.
    pub committed_steps: u32,
    /// The state of the last committed journal ('running', 'done', 'failed').
    pub state: Option<&'static str>,
    /// How often each step's code ran (its request issued).
    pub executions: Vec<u32>,
    /// The client executing it now.
    pub executing: Option<u64>,
}

pub fn run_id(r: usize) -> String {
    format!("run-{r}")
}

pub fn run_of(id: &str) -> Option<usize> {
    id.strip_prefix("run-").and_then(|n| n.parse().ok())
}

pub fn step_name(index: u32) -> String {
    format!("s{index}")
}

/// Step `index` of run `r` is operation `step_op(...)` in the ledger.
pub fn step_op(sim: &Sim, r: usize, index: u32) -> usize {
    sim.cfg.ops + r * STEPS as usize + index as usize
}

/// The application starts each run at a random time of the issue window.
pub fn schedule(sim: &Rc<Sim>) {
    // Some steps' requests are refused (422): their runs must fail there.
    for op in sim.cfg.ops..sim.cfg.ops + sim.cfg.runs * STEPS as usize {
        let invalid = sim.rng.borrow_mut().chance(sim.cfg.p_invalid / 2.0);
        sim.ledger.borrow_mut().ops[op].invalid = invalid;
    }
    for r in 0..sim.cfg.runs {
        let s = sim.clone();
        sim.exec.at(sim.draw(0, ISSUE_WINDOW_MS), move || start(&s, r));
    }
}

fn start(sim: &Rc<Sim>, r: usize) {
    let clients = sim.alive_clients();
    if clients.is_empty() {
        let s = sim.clone();
        return sim.exec.after(500, move || start(&s, r));
    }
    let client = clients[sim.draw(0, clients.len() as u64 - 1) as usize].clone();
    client.start_run(r);
}

/// What the host answers the workflow's code at step `index`: the step's
/// request, then `step_done` (or `step_threw`).
pub fn run_step(host: &Rc<Host>, r: usize, index: u32, key: String) {
    let sim = host.sim.clone();
    let op = step_op(&sim, r, index);
    let executions = {
        let mut ledger = sim.ledger.borrow_mut();
        let log = &mut ledger.runs[r];
        log.executions[index as usize] += 1;
        let (n, committed) = (log.executions[index as usize], log.committed_steps);
        // Without Web Locks two processes may run one run at once (they
        // must serialise themselves): only the server's deduplication holds.
        if committed > index && sim.cfg.web_locks {
            ledger.violations.push(format!("run {r}: step {index} ran again after the journal committed it ({committed} steps)"));
        }
        ledger.ops[op].waiting_in = Some(host.instance);
        n
    };
    // The step's one request: the engine keys it `{key}:0`.
    let from_step = Some((key.clone(), 0));
    let key = format!("{key}:0");
    let call = Call {
        op,
        id: sim.draw(1, u32::MAX as u64),
        key: None,
        url: "http://127.0.0.1:8001/checkout".into(),
        body: format!("op-{op}").into_bytes(),
        durable: None,
        signal: Abort::new(),
        // A resumed step sends its key again: the server replays.
        resubmission: executions > 1,
        from_step,
    };
    sim.ledger.borrow_mut().ops[op].resubmitted |= executions > 1;
    let h = host.clone();
    host.fetch(call, move |result| {
        h.sim.ledger.borrow_mut().ops[op].waiting_in = None;
        step_answered(&h, r, index, key, result)
    });
}

/// The step's request ended: its answer is the step's result (the engine
/// decides whether its status fails the step), or the run fails. A step's
/// request that ends 'queued' is not rejected: the engine waits for its
/// answer, and rejects it only when the store has none to give.
fn step_answered(host: &Rc<Host>, r: usize, index: u32, key: String, result: CallResult) {
    let id = run_id(r);
    match result {
        CallResult::Status(status) => host.step_done(&id, index, status),
        // The client closed: the run stops where it is; the next client resumes it.
        CallResult::Failed(ErrorKind::Closed) => {}
        CallResult::Failed(ErrorKind::Exhausted) => {
            // With Web Locks only an expiry (ttlMs, of the record or of its
            // kept answer) leaves nothing to read.
            let op = step_op(&host.sim, r, index);
            // Or its kept answer is past its TTL on the wall clock (a clock
            // jump can do it at once): its delete may not have committed yet.
            let kept_past_ttl = host.sim.store.borrow().get(&key).and_then(|v| KeptResult::decode(v.data.as_deref()?).ok())
                .is_some_and(|kept| kept.settled_at.0 + host.sim.cfg.ttl_ms as f64 <= host.sim.now_ms());
            let expired = {
                let ledger = host.sim.ledger.borrow();
                ledger.ops[op].reports.contains(&Report::Expired) || ledger.ops[op].kept_expired || kept_past_ttl
            };
            if !expired && host.sim.cfg.web_locks {
                let what = format!("run {r}: step {index}'s answer ({key}) was lost: nothing left to read");
                host.sim.ledger.borrow_mut().violations.push(what);
            }
            host.step_threw(&id, index)
        }
        // The store refused the step's request (nothing was sent): the step throws.
        _ => host.step_threw(&id, index),
    }
}
