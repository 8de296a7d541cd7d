//! The application and the hostile world around the clients: operations
//! issued over time (some with the caller's own key, some not durable, some
//! aborted), tabs that crash or close and come back, clock jumps, network
//! partitions (some the device knows about: 'offline', then 'online'),
//! `resume()` calls, unreadable values in the store, and finally a healed
//! network. After healing nobody calls `resume()`: what is still pending
//! must be sent by the clients' own wake-ups.

use std::cell::Cell;
use std::rc::Rc;

use durafetch::core::clock::Wall;
use durafetch::core::contract::ErrorKind;
use durafetch::core::key::fingerprint;
use durafetch::core::record::Record;

use super::stored::StoredValue;

use super::host::{Abort, Call, CallResult, Host};
use super::ledger::Report;
use super::world::{Draw, Sim};

/// Operations are issued during the first minute; faults last two.
pub const ISSUE_WINDOW_MS: u64 = 60_000;
pub const HEAL_AT_MS: u64 = 120_000;
const ORIGINS: [&str; 2] = ["http://127.0.0.1:8001", "http://127.0.0.1:8002"];

/// A fresh key, as `crypto.randomUUID()` would give (random, never reused).
/// 16 bytes from the simulated CSPRNG (the host's `random(16)`).
pub fn random16(sim: &Sim) -> [u8; 16] {
    let mut rng = sim.rng.borrow_mut();
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_le_bytes());
    out[8..].copy_from_slice(&b.to_le_bytes());
    out
}

pub fn start(sim: &Rc<Sim>) {
    // Left by another program or an older version before the pages open:
    // each createClient's first round finds them.
    for n in 0..sim.cfg.corrupt_records {
        corrupt(sim, n);
    }
    for slot in 0..sim.cfg.clients {
        start_client(sim, slot);
    }
    for op in 0..sim.cfg.ops {
        let explicit = sim.rng.borrow_mut().chance(sim.cfg.p_explicit_key);
        let invalid = sim.rng.borrow_mut().chance(sim.cfg.p_invalid);
        let non_durable = sim.rng.borrow_mut().chance(sim.cfg.p_non_durable);
        let explicit_key = explicit.then(|| format!("order-{op}-{}", sim.draw(0, 1 << 20)));
        {
            let mut ledger = sim.ledger.borrow_mut();
            ledger.ops[op].invalid = invalid;
            ledger.ops[op].explicit_key = explicit_key;
            ledger.ops[op].asked_non_durable = non_durable;
        }
        let s = sim.clone();
        sim.exec.at(sim.draw(0, ISSUE_WINDOW_MS), move || issue(&s, op, false));
    }
    super::workflows::schedule(sim);
    super::drains::schedule(sim);
    let cfg = sim.cfg.clone();
    every(sim, cfg.crash_every_ms, |s| {
        let slot = s.draw(0, s.cfg.clients as u64 - 1) as usize;
        if let Some(host) = s.client(slot) {
            crash(s, slot, host.instance, "random");
        }
    });
    every(sim, cfg.close_every_ms, |s| {
        let slot = s.draw(0, s.cfg.clients as u64 - 1) as usize;
        close(s, slot);
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
        if s.network_down.replace(true) {
            return;
        }
        let known = s.rng.borrow_mut().chance(s.cfg.p_device_offline);
        {
            let mut ledger = s.ledger.borrow_mut();
            ledger.faults.partitions += 1;
            ledger.faults.device_offline += known as u64;
        }
        s.log(|| format!("network down{}", if known { " (the device knows: offline)" } else { "" }));
        if known {
            // navigator.onLine turns false at once; each context's 'offline'
            // event comes a task or more later, so a fetch may fail in between
            // (the host then reports the platform's fact with the failure).
            s.device_offline.set(true);
            for c in s.alive_clients() {
                let (sim, delay) = (s.clone(), s.draw(0, 300));
                s.exec.after(delay, move || {
                    if sim.device_offline.get() && c.alive.get() {
                        c.offline();
                    }
                });
            }
        }
        let back = s.clone();
        s.exec.after(s.draw(100, 10_000), move || {
            back.network_down.set(false);
            back.log(|| "network up".into());
            if back.device_offline.replace(false) {
                back.alive_clients().iter().for_each(|c| c.online());
            }
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
pub fn every(sim: &Rc<Sim>, mean_ms: u64, f: impl Fn(&Rc<Sim>) + 'static) {
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
    let client = Host::new(sim, slot);
    sim.clients.borrow_mut()[slot] = Some(client.clone());
    sim.log(|| format!("c{} started in slot {slot}", client.instance));
    client.start();
    super::drains::at_start(sim, &client);
}

/// The tab or process dies: everything not persisted is gone.
/// Returns false for a client no longer in the world's lists (closed, its
/// store closed, a cancelled fetch still ending): its caller kills it alone.
pub fn crash(sim: &Rc<Sim>, slot: usize, instance: u64, label: &'static str) -> bool {
    let host = {
        let clients = sim.clients.borrow();
        let in_slot = clients.get(slot).cloned().flatten().filter(|h| h.instance == instance);
        in_slot.or_else(|| sim.closing.borrow().iter().find(|h| h.instance == instance).cloned())
    };
    let Some(host) = host else { return false };
    if !host.alive.get() {
        return true;
    }
    host.die();
    sim.log(|| format!("c{instance} CRASH at {label}"));
    let in_slot = sim.clients.borrow()[slot].as_ref().is_some_and(|h| h.instance == instance);
    if in_slot {
        sim.clients.borrow_mut()[slot] = None;
    }
    retire(sim, instance);
    let down = sim.draw(10, 10_000);
    let mut resubmit = Vec::new();
    {
        let mut ledger = sim.ledger.borrow_mut();
        match label {
            "random" => ledger.faults.random_crashes += 1,
            _ => *ledger.faults.crashes.entry(label).or_default() += 1,
        }
        for op in host.waiting_ops() {
            let log = &mut ledger.ops[op];
            log.waiting_in = None;
            // Only a caller that chose its own key can resubmit the same operation.
            if log.explicit_key.is_some() && !log.abort_requested {
                resubmit.push(op);
            }
        }
    }
    if in_slot {
        let s = sim.clone();
        sim.exec.after(down, move || start_client(&s, slot));
    }
    for op in resubmit {
        sim.ledger.borrow_mut().faults.resubmissions += 1;
        let s = sim.clone();
        sim.exec.after(down + sim.draw(0, 2_000), move || issue(&s, op, true));
    }
    true
}

/// The page navigates away: `client.close()`, and a new page later.
fn close(sim: &Rc<Sim>, slot: usize) {
    let Some(host) = sim.client(slot) else { return };
    sim.ledger.borrow_mut().faults.closes += 1;
    sim.clients.borrow_mut()[slot] = None;
    sim.closing.borrow_mut().push(host.clone());
    host.close();
    let s = sim.clone();
    sim.exec.after(sim.draw(10, 5_000), move || start_client(&s, slot));
}

/// A closed client whose store is closed is gone for good.
pub fn retire(sim: &Sim, instance: u64) {
    sim.closing.borrow_mut().retain(|h| h.instance != instance);
}

/// Something else wrote an unreadable value into the outbox.
fn corrupt(sim: &Rc<Sim>, n: u64) {
    let key = format!("junk-{n}");
    let record = Record {
        key: key.clone(),
        method: "POST".into(),
        url: "http://127.0.0.1:8001/orders".into(),
        headers: vec![],
        body: Some(b"op-0".to_vec()),
        fingerprint: fingerprint("POST", "http://127.0.0.1:8001/orders", b"op-0"),
        attempts: 0,
        created_at: Wall(sim.now_ms()),
        seq: 0.0,
        next_attempt_at: Wall::EPOCH,
        not_before: Wall::EPOCH,
        expired_at: None,
        no_answer: false,
        trace: None,
    };
    let mut data = record.encode();
    match sim.draw(0, 3) {
        // From a future version.
        0 => data[1] = 99,
        // Its fingerprint no longer matches (changed on disk).
        1 => {
            let at = data.len() - 5 * 8 - 2;
            data[at] ^= 1;
        }
        // Truncated.
        2 => data.truncate(data.len() / 2),
        // Not the core's bytes at all.
        _ => data.clear(),
    }
    let value = StoredValue { key: Some(key.clone()), data: Some(data).filter(|d| !d.is_empty()) };
    sim.ledger.borrow_mut().corrupt_keys.insert(key.clone());
    sim.ledger.borrow_mut().faults.corrupt_records += 1;
    sim.store.borrow_mut().insert(key.clone(), value);
    sim.log(|| format!("an unreadable value {key} appears in the store"));
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
    let (key, non_durable) = {
        let mut ledger = sim.ledger.borrow_mut();
        ledger.ops[op].waiting_in = Some(client.instance);
        ledger.ops[op].resubmitted |= resubmission;
        (ledger.ops[op].explicit_key.clone(), ledger.ops[op].asked_non_durable)
    };
    let url = format!("{}/orders", ORIGINS[op % ORIGINS.len()]);
    let durable = non_durable.then_some(false);
    let call = Call { op, id: call_id, key, url, body: format!("op-{op}").into_bytes(), durable, signal: signal.clone(), resubmission, from_step: None };
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
    let closed_client = client.clone();
    client.fetch(call, move |result| {
        done.set(true);
        let mut ledger = s.ledger.borrow_mut();
        ledger.ops[op].waiting_in = None;
        let key = ledger.key_op.iter().find(|(_, o)| **o == op).map(|(k, _)| k.clone());
        let now = s.exec.now();
        let durable = ledger.ops[op].durable;
        if let CallResult::Failed(kind) = result {
            ledger.ops[op].failed = Some(kind);
        }
        // Queued: its answer, once a background resend gets it, is kept for
        // `result(key)`, which the application asks for later in some tab.
        let read = match (result, &key) {
            (CallResult::Failed(ErrorKind::Queued), Some(key)) if durable => Some(key.clone()),
            _ => None,
        };
        match (result, key) {
            (CallResult::Status(status), Some(key)) => ledger.report(&key, Report::Status(status), now),
            (CallResult::Failed(ErrorKind::Aborted), Some(key)) => ledger.report(&key, Report::Aborted, now),
            (CallResult::Failed(ErrorKind::Queued), _) if durable => {}
            // The store refused it: nothing was sent (checked at the end).
            (CallResult::Failed(ErrorKind::Storage), _) if durable => {}
            (CallResult::Failed(ErrorKind::Closed), _) if closed_client.closed.get() => {}
            (CallResult::Failed(ErrorKind::Exhausted | ErrorKind::Deadline | ErrorKind::CircuitOpen), _) if !durable => {}
            (other, _) => ledger.violations.push(format!("op {op}: the call ended with {other:?}")),
        }
        drop(ledger);
        if let Some(key) = read.filter(|_| s.rng.borrow_mut().chance(0.5)) {
            // Sometimes twice: the second finds nothing (read once).
            let reads = 1 + s.rng.borrow_mut().chance(0.3) as u32;
            read_later(&s, op, key, reads, ISSUE_WINDOW_MS);
        }
    });
}

/// The application asks `client.result(key)` for op `op` within
/// `within_ms`, `reads` times, in whichever tab is open then; a read again
/// comes at once or much later.
fn read_later(sim: &Rc<Sim>, op: usize, key: String, reads: u32, within_ms: u64) {
    let s = sim.clone();
    sim.exec.after(sim.draw(0, within_ms), move || {
        let clients = s.alive_clients();
        if clients.is_empty() {
            return read_later(&s, op, key, reads, within_ms);
        }
        let client = clients[s.draw(0, clients.len() as u64 - 1) as usize].clone();
        let (asked_at, sim) = (s.exec.now(), s.clone());
        s.log(|| format!("c{} result({key}) asked", client.instance));
        client.result(key.clone(), move |result| {
            sim.log(|| format!("result({key}) answered {result:?}"));
            sim.ledger.borrow_mut().result_read(op, asked_at, sim.exec.now(), result);
            if reads > 1 {
                let within_ms = if sim.rng.borrow_mut().chance(0.5) { 30 } else { ISSUE_WINDOW_MS };
                read_later(&sim, op, key, reads - 1, within_ms);
            }
        });
    });
}

/// The network heals for good: no more faults; closed pages reopen (each
/// `createClient` resumes what is stored) and, if the device knew it was
/// offline, every client hears 'online'. Nothing else wakes them.
fn heal(sim: &Rc<Sim>) {
    sim.healed.set(true);
    sim.network_down.set(false);
    let was_offline = sim.device_offline.replace(false);
    for slot in 0..sim.cfg.clients {
        start_client(sim, slot);
    }
    if was_offline {
        sim.alive_clients().iter().for_each(|c| c.online());
    }
}
