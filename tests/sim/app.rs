//! The application and the hostile world around the clients: operations
//! issued over time (some with the caller's own key, some aborted), tabs
//! that crash and come back, clock jumps, network partitions ending in an
//! 'online' event, `resume()` calls, and finally a healed network.

use std::cell::Cell;
use std::rc::Rc;

use super::client::{Abort, Call, CallResult, Client};
use super::ledger::Report;
use super::world::{Draw, Sim};

/// Operations are issued during the first minute; faults last two.
pub const ISSUE_WINDOW_MS: u64 = 60_000;
pub const HEAL_AT_MS: u64 = 120_000;
const ORIGINS: [&str; 2] = ["http://127.0.0.1:8001", "http://127.0.0.1:8002"];

/// A fresh key, as `crypto.randomUUID()` would give (random, never reused).
pub fn new_key(sim: &Sim) -> String {
    let mut rng = sim.rng.borrow_mut();
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

pub fn start(sim: &Rc<Sim>) {
    for slot in 0..sim.cfg.clients {
        start_client(sim, slot);
    }
    for op in 0..sim.cfg.ops {
        let explicit = sim.rng.borrow_mut().chance(sim.cfg.p_explicit_key);
        let invalid = sim.rng.borrow_mut().chance(sim.cfg.p_invalid);
        let explicit_key = explicit.then(|| format!("order-{op}-{}", sim.draw(0, 1 << 20)));
        {
            let mut ledger = sim.ledger.borrow_mut();
            ledger.ops[op].invalid = invalid;
            ledger.ops[op].explicit_key = explicit_key;
        }
        let s = sim.clone();
        sim.exec.at(sim.draw(0, ISSUE_WINDOW_MS), move || issue(&s, op, false));
    }
    let cfg = sim.cfg.clone();
    every(sim, cfg.crash_every_ms, |s| {
        let slot = s.draw(0, s.cfg.clients as u64 - 1) as usize;
        crash(s, slot, "random");
    });
    every(sim, cfg.jump_every_ms, |s| {
        let by = s.draw(1_000, 600_000) as i64;
        let by = if s.draw(0, 1) == 0 { by } else { -by };
        let mut ledger = s.ledger.borrow_mut();
        match by > 0 {
            true => ledger.faults.jumps_forward += 1,
            false => ledger.faults.jumps_backward += 1,
        }
        drop(ledger);
        s.jump_clock(by);
        s.log(|| format!("the wall clock jumps {by:+} ms"));
    });
    every(sim, cfg.partition_every_ms, |s| {
        if s.offline.replace(true) {
            return;
        }
        s.ledger.borrow_mut().faults.partitions += 1;
        s.log(|| "offline".into());
        let back = s.clone();
        s.exec.after(s.draw(100, 10_000), move || {
            back.offline.set(false);
            back.log(|| "online".into());
            back.alive_clients().iter().for_each(|c| c.online());
        });
    });
    every(sim, cfg.resume_every_ms, |s| {
        let clients = s.alive_clients();
        if let Some(c) = clients.get(s.draw(0, clients.len().max(1) as u64 - 1) as usize) {
            s.ledger.borrow_mut().faults.resumes += 1;
            c.resume();
        }
    });
    let s = sim.clone();
    sim.exec.at(HEAL_AT_MS, move || heal(&s));
}

type WorldEvent = Rc<dyn Fn(&Rc<Sim>)>;

/// Calls `f` at random gaps averaging `mean_ms` until the network heals.
fn every(sim: &Rc<Sim>, mean_ms: u64, f: impl Fn(&Rc<Sim>) + 'static) {
    fn next(sim: &Rc<Sim>, mean_ms: u64, f: WorldEvent) {
        let s = sim.clone();
        sim.exec.after(sim.draw(1, 2 * mean_ms), move || {
            if !s.healed.get() {
                f(&s);
                next(&s, mean_ms, f);
            }
        });
    }
    if mean_ms > 0 {
        next(sim, mean_ms, Rc::new(f));
    }
}

/// A page (re)opens: `createClient` resumes what the store holds on its first task.
fn start_client(sim: &Rc<Sim>, slot: usize) {
    if sim.client(slot).is_some() {
        return;
    }
    let client = Client::new(sim, slot);
    sim.clients.borrow_mut()[slot] = Some(client.clone());
    sim.log(|| format!("c{} started in slot {slot}", client.instance));
    sim.exec.after(0, move || {
        if client.alive.get() {
            client.resume();
        }
    });
}

/// The tab or process dies: everything not persisted is gone.
pub fn crash(sim: &Rc<Sim>, slot: usize, label: &'static str) {
    let Some(client) = sim.client(slot) else { return };
    client.alive.set(false);
    sim.exec.kill(client.instance);
    sim.log(|| format!("c{} CRASH at {label}", client.instance));
    let down = sim.draw(10, 10_000);
    let mut resubmit = Vec::new();
    {
        let mut ledger = sim.ledger.borrow_mut();
        match label {
            "random" => ledger.faults.random_crashes += 1,
            _ => *ledger.faults.crashes.entry(label).or_default() += 1,
        }
        for (op, log) in ledger.ops.iter_mut().enumerate() {
            if log.waiting_in == Some(client.instance) {
                log.waiting_in = None;
                // Only a caller that chose its own key can resubmit the same operation.
                if log.explicit_key.is_some() && !log.abort_requested {
                    resubmit.push(op);
                }
            }
        }
    }
    let s = sim.clone();
    sim.exec.after(down, move || start_client(&s, slot));
    for op in resubmit {
        sim.ledger.borrow_mut().faults.resubmissions += 1;
        let s = sim.clone();
        sim.exec.after(down + sim.draw(0, 2_000), move || issue(&s, op, true));
    }
}

/// The application calls `client.fetch` for operation `op`.
fn issue(sim: &Rc<Sim>, op: usize, resubmission: bool) {
    let clients = sim.alive_clients();
    if clients.is_empty() {
        let s = sim.clone();
        return sim.exec.after(500, move || issue(&s, op, resubmission));
    }
    let client = clients[sim.draw(0, clients.len() as u64 - 1) as usize].clone();
    let signal = Abort::new();
    let call_id = sim.draw(1, u32::MAX as u64);
    let key = {
        let mut ledger = sim.ledger.borrow_mut();
        ledger.ops[op].waiting_in = Some(client.instance);
        ledger.ops[op].resubmitted |= resubmission;
        ledger.ops[op].explicit_key.clone()
    };
    let url = format!("{}/orders", ORIGINS[op % ORIGINS.len()]);
    let call = Call { op, id: call_id, key, url, body: format!("op-{op}").into_bytes(), signal: signal.clone(), resubmission };
    let done = Rc::new(Cell::new(false));
    if !resubmission && sim.fault(sim.cfg.p_abort) {
        let (s, done, instance) = (sim.clone(), done.clone(), client.instance);
        sim.exec.after(sim.draw(0, 3_000), move || {
            if !done.get() && s.ledger.borrow().ops[op].waiting_in == Some(instance) {
                let mut ledger = s.ledger.borrow_mut();
                ledger.ops[op].abort_requested = true;
                ledger.faults.aborts += 1;
                drop(ledger);
                signal.abort();
            }
        });
    }
    let s = sim.clone();
    sim.exec.spawn(client.instance, async move {
        let key = call.key.clone();
        let result = client.clone().fetch(call).await;
        done.set(true);
        let mut ledger = s.ledger.borrow_mut();
        ledger.ops[op].waiting_in = None;
        let key = key.or_else(|| ledger.key_op.iter().find(|(_, o)| **o == op).map(|(k, _)| k.clone()));
        let now = s.exec.now();
        match (result, key) {
            (CallResult::Status(status), Some(key)) => ledger.report(&key, Report::Status(status), now),
            (CallResult::Failed("aborted"), Some(key)) => ledger.report(&key, Report::Aborted, now),
            (CallResult::Failed("queued"), _) => {}
            (other, _) => ledger.violations.push(format!("op {op}: the call ended with {other:?}")),
        }
    });
}

/// The network heals for good: no more faults; closed pages reopen and
/// every client gets `resume()` (or 'online', if it was offline).
fn heal(sim: &Rc<Sim>) {
    sim.healed.set(true);
    let was_offline = sim.offline.replace(false);
    for slot in 0..sim.cfg.clients {
        start_client(sim, slot);
    }
    sim.alive_clients().iter().for_each(|c| if was_offline { c.online() } else { c.resume() });
}
