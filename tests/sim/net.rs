//! The simulated network and the server behind it.
//!
//! The server deduplicates by idempotency key the way the demo server does:
//! the first request with a key is processed (for a few ms, during which the
//! same key gets 409), its response is stored and replayed for every later
//! request with that key. It also counts what a server WITHOUT the key would
//! have applied: every request that reached the processing step.
//!
//! The network loses requests (before the server: nothing applied) and
//! responses (after the server applied it: the client sees a reset or a
//! timeout), delivers some requests twice (the copy late, after later
//! requests), answers some with 5xx or 429 + Retry-After, and can be offline.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::dates::http_date;
use super::world::{Sim, EPOCH_MS};

pub enum Reply {
    Answered { status: u16, retry_after: Option<String> },
    Network,
}

/// Where an answer goes, if one comes back.
pub type OnReply = Box<dyn FnOnce(Reply)>;

#[derive(Default)]
pub struct Server {
    /// The first response per key, and the operation (body) it was for.
    pub responses: BTreeMap<String, (usize, u16)>,
    processing: BTreeSet<String>,
    /// Applications per operation, with the key (the truth).
    pub effects: BTreeMap<usize, u32>,
    /// Applications per operation a server ignoring the key would have made.
    pub naive: BTreeMap<usize, u32>,
    /// Requests whose key had been stored for another body.
    pub key_reuse: u32,
}

pub fn op_of(body: &[u8]) -> usize {
    std::str::from_utf8(body).ok().and_then(|s| s.strip_prefix("op-")).and_then(|n| n.parse().ok()).unwrap_or(usize::MAX)
}

fn latency(sim: &Sim) -> u64 {
    if sim.fault(sim.cfg.p_slow) {
        sim.draw(200, 4_000)
    } else {
        sim.draw(1, 80)
    }
}

/// Puts one attempt on the wire; `reply` gets the answer if one comes back.
pub fn dispatch(sim: &Rc<Sim>, key: String, body: Vec<u8>, reply: OnReply) {
    if sim.network_down.get() && !sim.healed.get() {
        sim.ledger.borrow_mut().faults.offline_refusals += 1;
        sim.exec.after(1, move || reply(Reply::Network));
        return;
    }
    if sim.fault(sim.cfg.p_drop_request) {
        sim.ledger.borrow_mut().faults.requests_dropped += 1;
        if sim.draw(0, 1) == 0 {
            let at = latency(sim);
            sim.exec.after(at, move || reply(Reply::Network));
        }
        return;
    }
    let there = latency(sim);
    if sim.fault(sim.cfg.p_duplicate) {
        sim.ledger.borrow_mut().faults.duplicated += 1;
        let late = there + sim.draw(0, 5_000);
        let (s, k, b) = (sim.clone(), key.clone(), body.clone());
        sim.exec.after(late, move || arrive(&s, k, b, None));
    }
    let s = sim.clone();
    sim.exec.after(there, move || arrive(&s, key, body, Some(reply)));
}

fn arrive(sim: &Rc<Sim>, key: String, body: Vec<u8>, reply: Option<OnReply>) {
    let op = op_of(&body);
    sim.log(|| format!("server <- {key} op {op}"));
    if sim.fault(sim.cfg.p_5xx) {
        sim.ledger.borrow_mut().faults.status_5xx += 1;
        let wait = (sim.draw(0, 1) == 0).then(|| sim.draw(0, 10).to_string());
        let status = if wait.is_some() { 503 } else { [500, 502, 503, 504][sim.draw(0, 3) as usize] };
        return respond(sim, reply, status, wait, false);
    }
    if sim.fault(sim.cfg.p_429) {
        sim.ledger.borrow_mut().faults.status_429 += 1;
        let wait_ms = sim.draw(0, 30) * 1000;
        let header = if sim.draw(0, 2) == 0 {
            // An HTTP-date on the server's clock, which does not jump with the client's.
            http_date(EPOCH_MS as u64 + sim.exec.now() + wait_ms)
        } else {
            (wait_ms / 1000).to_string()
        };
        return respond(sim, reply, 429, Some(header), false);
    }
    if sim.cfg.p_accepted_later > 0.0 && sim.fault(sim.cfg.p_accepted_later) {
        sim.ledger.borrow_mut().faults.accepted_later += 1;
        let wait_s = sim.draw(1, 10);
        return respond(sim, reply, 202, Some(wait_s.to_string()), false);
    }
    let invalid = sim.ledger.borrow().is_invalid(op);
    if !invalid {
        *sim.server.borrow_mut().naive.entry(op).or_default() += 1;
    }
    let mut server = sim.server.borrow_mut();
    if server.processing.contains(&key) {
        drop(server);
        sim.ledger.borrow_mut().faults.status_409 += 1;
        return respond(sim, reply, 409, None, false);
    }
    if let Some(&(stored_op, status)) = server.responses.get(&key) {
        if stored_op != op {
            server.key_reuse += 1;
            drop(server);
            return respond(sim, reply, 422, None, false);
        }
        drop(server);
        return respond(sim, reply, status, None, false);
    }
    server.processing.insert(key.clone());
    drop(server);
    let s = sim.clone();
    sim.exec.after(sim.draw(0, 30), move || {
        let status = if invalid { 422 } else { 201 };
        {
            let mut server = s.server.borrow_mut();
            server.processing.remove(&key);
            server.responses.insert(key.clone(), (op, status));
            if !invalid {
                *server.effects.entry(op).or_default() += 1;
            }
        }
        s.log(|| format!("server applied {key} op {op} -> {status}"));
        respond(&s, reply, status, None, !invalid);
    });
}

fn respond(sim: &Rc<Sim>, reply: Option<OnReply>, status: u16, retry_after: Option<String>, applied: bool) {
    // A late duplicate's answer goes to a connection nobody waits on.
    let Some(reply) = reply else { return };
    let back = latency(sim);
    if sim.fault(sim.cfg.p_drop_response) {
        let mut ledger = sim.ledger.borrow_mut();
        ledger.faults.responses_dropped += 1;
        ledger.faults.applied_but_unanswered += applied as u64;
        if sim.draw(0, 1) == 0 {
            sim.exec.after(back, move || reply(Reply::Network));
        }
        return;
    }
    sim.exec.after(back, move || reply(Reply::Answered { status, retry_after }));
}
