//! `drain()` in the simulation: the application (or a sync event, on its
//! last chance or not, fired only while the device is online, as browsers
//! do) drains a client, a client drains as soon as it is made (a service
//! worker's start), and pages are shown. A drain must be
//! answered, and one that says nothing remains must be right: no operation
//! stored when it was called is still stored, unanswered, when it answers
//! (what a service worker resolves its sync event on; the browser fires no
//! other). Operations it leaves are not lost: the liveness checks at the
//! end of each seed still apply to them.

use std::rc::Rc;

use durafetch::core::contract::ErrorKind;
use durafetch::core::engine::DrainFor;
use durafetch::core::record::Record;

use super::app::every;
use super::host::Host;
use super::ledger::Report;
use super::world::{Draw, Sim};

/// A drain waiting for its answer: what the store held when it was called.
pub struct DrainAsk {
    pub stored: Vec<String>,
    pub last_chance: bool,
}

pub fn schedule(sim: &Rc<Sim>) {
    let cfg = sim.cfg.drains.clone();
    every(sim, cfg.drain_every_ms, move |s| {
        let clients = s.alive_clients();
        if let Some(c) = clients.get(s.draw(0, clients.len().max(1) as u64 - 1) as usize) {
            let sync = !s.device_offline.get() && s.rng.borrow_mut().chance(0.5);
            let last_chance = s.rng.borrow_mut().chance(cfg.p_last_chance);
            c.drain(if sync { DrainFor::Sync { last_chance } } else { DrainFor::Call });
        }
    });
    every(sim, sim.cfg.drains.visible_every_ms, |s| {
        let clients = s.alive_clients();
        if let Some(c) = clients.get(s.draw(0, clients.len().max(1) as u64 - 1) as usize) {
            s.ledger.borrow_mut().checks.pages_shown += 1;
            c.visible();
        }
    });
}

/// A client was just made: maybe it drains at once, as a service worker's does.
pub fn at_start(sim: &Sim, host: &Rc<Host>) {
    if sim.rng.borrow_mut().chance(sim.cfg.drains.p_drain_at_start) {
        host.drain(DrainFor::Call);
    }
}

/// The operations stored now, by key.
pub fn stored_ops(sim: &Sim) -> Vec<String> {
    let store = sim.store.borrow();
    let ops = store.iter().filter(|(_, v)| v.data.as_deref().is_some_and(|d| Record::decode(d).is_ok()));
    ops.map(|(k, _)| k.clone()).collect()
}

/// `drain()` answered. Returns a violation, if any.
pub fn answered(sim: &Sim, instance: u64, ask: DrainAsk, settled: u32, remaining: u32, retry: bool) -> Option<String> {
    let mut ledger = sim.ledger.borrow_mut();
    ledger.checks.drains_answered += 1;
    ledger.checks.drains_settled += settled as u64;
    ledger.checks.drains_left_some += (remaining > 0) as u64;
    if retry != (remaining > 0 && !ask.last_chance) {
        return Some(format!("c{instance}: drain answered retry={retry} with {remaining} remaining (last chance: {})", ask.last_chance));
    }
    if remaining > 0 {
        return None;
    }
    let now = stored_ops(sim);
    let answered = |r: &Report| matches!(r, Report::Status(_) | Report::Settled(_) | Report::Expired | Report::Aborted);
    let left: Vec<String> = ask
        .stored
        .iter()
        .filter(|k| now.contains(k))
        .filter(|k| {
            let op = ledger.key_op.get(*k).and_then(|&op| ledger.ops.get(op));
            op.is_some_and(|op| !op.resubmitted && !op.abort_requested && !op.reports.iter().any(answered))
        })
        .cloned()
        .collect();
    (!left.is_empty()).then(|| {
        format!("drain said nothing remains: c{instance} answered 0 remaining at t={} ms, but {left:?} (stored when it was called) are still stored, unanswered", sim.exec.now())
    })
}

/// A drain may end without an answer only by closing or a failed listing.
pub fn refused(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Closed | ErrorKind::Storage)
}
