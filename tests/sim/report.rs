//! One seed from start to end, the properties checked once the network has
//! healed, and the figures summed over seeds.

use std::collections::BTreeMap;

use super::app::{self, HEAL_AT_MS};
use super::fleet::FleetFigures;
use super::ledger::{Checks, Faults, Report};
use super::world::{Config, Sim};

/// After healing: long enough for any backoff, cooldown, Retry-After and
/// clock skew the seeds draw (a random walk of jumps of up to 10 minutes).
const SETTLE_MS: u64 = 6 * 3_600_000;
/// A seed that needs more steps than this has run away (a livelock).
const MAX_STEPS: u64 = 3_000_000;

#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    pub two_client_seeds: u64,
    pub no_web_lock_seeds: u64,
    pub ops: u64,
    /// Calls made with `durable: false`.
    pub non_durable: u64,
    pub accepted: u64,
    /// The page died before the record was written: never sent (checked).
    pub never_persisted: u64,
    pub effects: u64,
    pub refused: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub naive_effects: u64,
    pub naive_duplicates: u64,
    pub reported_status: u64,
    /// Operations whose 'settled' event fired (at least once).
    pub reported_settled: u64,
    /// Answered, deleted, and never reported 'settled' (violations).
    pub unreported: u64,
    pub reported_expired: u64,
    pub reported_aborted: u64,
    pub live_attempts: u64,
    pub resend_attempts: u64,
    pub waits_checked: u64,
    pub faults: Faults,
    pub checks: Checks,
    pub polls: u64,
    /// Workflow runs started, ended done or failed, lost (violations), and
    /// steps run again after a crash (the interrupted step, same key).
    pub runs: u64,
    pub runs_done: u64,
    pub runs_failed: u64,
    pub runs_lost: u64,
    pub steps_rerun: u64,
    /// Results kept for result(key) still stored at the end (read, or left to ttlMs).
    pub kept_left: u64,
    /// The fleet rules: budgets, shared breakers (tests/sim/fleet.rs).
    pub fleet: FleetFigures,
    /// Resends whose span linked to an earlier attempt's.
    pub resend_links: u64,
}

pub struct SeedRun {
    pub totals: Totals,
    pub violations: Vec<String>,
    pub trace: Vec<String>,
}

pub fn run_seed(cfg: Config, trace: bool) -> SeedRun {
    let ops = cfg.ops;
    let sim = Sim::new(cfg, trace);
    app::start(&sim);
    let finished = sim.exec.run(HEAL_AT_MS + SETTLE_MS, MAX_STEPS);
    let mut totals = Totals { seeds: 1, ops: ops as u64, polls: sim.exec.steps.get(), ..Totals::default() };
    totals.two_client_seeds = (sim.cfg.clients == 2) as u64;
    totals.no_web_lock_seeds = (!sim.cfg.web_locks) as u64;
    let mut violations = std::mem::take(&mut sim.ledger.borrow_mut().violations);
    if !finished {
        violations.push(format!("runaway: more than {MAX_STEPS} steps by t={} ms", sim.exec.now()));
    }
    violations.extend(end_checks(&sim, &mut totals));
    {
        let mut fleet = sim.fleet.borrow_mut();
        violations.append(&mut fleet.violations);
        totals.fleet = fleet.figures.clone();
    }
    {
        let ledger = sim.ledger.borrow();
        totals.resend_links = ledger.resend_links;
        totals.faults = ledger.faults.clone();
        totals.checks = ledger.checks.clone();
        totals.live_attempts = ledger.live_attempts;
        totals.resend_attempts = ledger.resend_attempts;
        totals.waits_checked = ledger.waits_checked;
    }
    let trace = sim.trace.as_ref().map(|t| t.borrow().clone()).unwrap_or_default();
    sim.teardown();
    SeedRun { totals, violations, trace }
}

/// Exactly once or reported, never twice, never lost.
fn end_checks(sim: &Sim, totals: &mut Totals) -> Vec<String> {
    let mut v = Vec::new();
    let (ledger, server, store) = (sim.ledger.borrow(), sim.server.borrow(), sim.store.borrow());
    for (key, value) in store.iter() {
        use durafetch::core::record::{kind_of, Kind};
        match value.data.as_deref().map(kind_of) {
            Some(Ok(Kind::Run)) => continue,
            Some(Ok(Kind::Result)) => {
                totals.kept_left += 1;
                continue;
            }
            _ => {}
        }
        if ledger.corrupt_keys.contains(key) {
            if sim.cfg.quarantine_moves {
                v.push(format!("unreadable {key} is still in the outbox, though the store can move it aside"));
            }
            continue;
        }
        v.push(format!("lost: record {key} (op {:?}) is still stored after the network healed", ledger.key_op.get(key)));
    }
    // Reported, or moved aside (a crash between the move and its report
    // loses only the report: the value is kept in the quarantine store).
    let moved: Vec<String> = sim.quarantine.borrow().iter().filter_map(|v| v.key.clone()).collect();
    for key in ledger.corrupt_keys.difference(&ledger.quarantined_keys) {
        if !moved.contains(key) {
            v.push(format!("unreadable {key} was neither reported quarantined nor moved aside"));
        }
    }
    let hosts = sim.clients.borrow().iter().flatten().cloned().chain(sim.closing.borrow().iter().cloned()).collect::<Vec<_>>();
    for host in hosts.iter().filter(|h| h.alive.get()) {
        if host.drains_waiting() > 0 {
            v.push(format!("client {} has {} drain() calls never answered", host.instance, host.drains_waiting()));
        }
        for leak in host.leaked() {
            v.push(format!("client {} still holds a payload the engine never handed on nor dropped: {leak}", host.instance));
        }
    }
    if server.key_reuse > 0 {
        v.push(format!("{} requests reused a key stored for another operation", server.key_reuse));
    }
    for (r, run) in ledger.runs.iter().enumerate() {
        totals.runs += (run.started || run.journaled) as u64;
        totals.steps_rerun += run.executions.iter().map(|&n| n.saturating_sub(1) as u64).sum::<u64>();
        match run.state {
            Some("completed") => {
                totals.runs_done += 1;
                for index in 0..super::workflows::STEPS {
                    let op = super::workflows::step_op(sim, r, index);
                    let effects = server.effects.get(&op).copied().unwrap_or(0);
                    if effects != 1 {
                        v.push(format!("run {r} completed, but its step {index} (op {op}) was applied {effects} times"));
                    }
                }
            }
            Some("failed") => totals.runs_failed += 1,
            _ if run.started || run.journaled => {
                totals.runs_lost += 1;
                v.push(format!("lost: run {r} was started ({:?}) but never ended after the network healed", run.state));
            }
            _ => {}
        }
    }
    let key_of: BTreeMap<usize, &String> = ledger.key_op.iter().map(|(k, op)| (*op, k)).collect();
    for (op, log) in ledger.ops.iter().enumerate() {
        let effects = server.effects.get(&op).copied().unwrap_or(0) as u64;
        let naive = server.naive.get(&op).copied().unwrap_or(0) as u64;
        totals.effects += effects;
        totals.duplicates += effects.saturating_sub(1);
        totals.naive_effects += naive;
        totals.naive_duplicates += naive.saturating_sub(1);
        if effects > 1 {
            v.push(format!("duplicate: op {op} applied {effects} times"));
        }
        let answer = key_of.get(&op).and_then(|k| server.responses.get(*k)).map(|&(_, status)| status);
        if !log.durable {
            // Live attempts only: it was told the server's answer, or the
            // last transient status when its bounds ran out (as fetch would).
            totals.non_durable += 1;
            for status in log.reports.iter().filter_map(|r| r.status()) {
                if Some(status) != answer && !sim.cfg.policy.retry_on.contains(status) {
                    v.push(format!("op {op} (not durable): reported status {status}, the server's answer is {answer:?}"));
                }
            }
            continue;
        }
        if !log.persisted {
            totals.never_persisted += 1;
            if log.attempts > 0 || effects > 0 {
                v.push(format!("op {op} was sent without ever being persisted"));
            }
            continue;
        }
        totals.accepted += 1;
        totals.refused += (answer == Some(422)) as u64;
        if answer == Some(201) && effects != 1 {
            v.push(format!("op {op}: answered 201 but applied {effects} times"));
        }
        for status in log.reports.iter().filter_map(|r| r.status()) {
            if Some(status) != answer {
                v.push(format!("op {op}: reported status {status}, the server's answer is {answer:?}"));
            }
        }
        let has = |r: Report| log.reports.contains(&r);
        let settled_reported = log.reports.iter().any(|r| matches!(r, Report::Settled(_)));
        totals.reported_status += log.reports.iter().any(|r| r.status().is_some()) as u64;
        totals.reported_settled += settled_reported as u64;
        totals.reported_expired += has(Report::Expired) as u64;
        totals.reported_aborted += has(Report::Aborted) as u64;
        let excused = has(Report::Expired) || has(Report::Aborted) || log.abort_requested;
        if answer.is_none() && !excused {
            totals.lost += 1;
            v.push(format!("lost: op {op} was accepted, then neither applied nor reported"));
        }
        // Its record is gone (checked above): a definitive answer was
        // reported as 'settled' at least once, or the operation gave up.
        if let (Some(status), false, false) = (answer, settled_reported, excused) {
            totals.unreported += 1;
            v.push(format!("unreported: op {op} was answered {status} and its record deleted, but no 'settled' was reported"));
        }
    }
    v
}

impl Totals {
    pub fn add(&mut self, o: &Totals) {
        macro_rules! sum {
            ($($f:ident).+) => { $( self.$f += o.$f; )+ };
        }
        sum!(seeds.two_client_seeds.no_web_lock_seeds.ops.non_durable.accepted.never_persisted.effects.refused.duplicates);
        sum!(lost.naive_effects.naive_duplicates.reported_status.reported_settled.unreported.reported_expired.reported_aborted);
        sum!(live_attempts.resend_attempts.waits_checked.polls);
        sum!(runs.runs_done.runs_failed.runs_lost.steps_rerun.kept_left.resend_links);
        self.fleet.add(&o.fleet);
        let (f, g) = (&mut self.faults, &o.faults);
        for (label, n) in &g.crashes {
            *f.crashes.entry(label).or_default() += n;
        }
        f.random_crashes += g.random_crashes;
        f.requests_dropped += g.requests_dropped;
        f.responses_dropped += g.responses_dropped;
        f.applied_but_unanswered += g.applied_but_unanswered;
        f.duplicated += g.duplicated;
        f.status_5xx += g.status_5xx;
        f.status_429 += g.status_429;
        f.accepted_later += g.accepted_later;
        f.status_409 += g.status_409;
        f.partitions += g.partitions;
        f.offline_refusals += g.offline_refusals;
        f.jumps_forward += g.jumps_forward;
        f.jumps_backward += g.jumps_backward;
        f.aborts += g.aborts;
        f.resubmissions += g.resubmissions;
        f.resumes += g.resumes;
        f.closes += g.closes;
        f.device_offline += g.device_offline;
        f.replay_failures += g.replay_failures;
        f.store_failures += g.store_failures;
        f.store_errors_reported += g.store_errors_reported;
        f.corrupt_records += g.corrupt_records;
        self.checks.add(&o.checks);
    }

    pub fn crashes(&self) -> u64 {
        self.faults.crashes.values().sum::<u64>() + self.faults.random_crashes
    }

    pub fn crash_points(&self) -> String {
        self.faults.crashes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    }

    pub fn summary_line(&self) -> String {
        let (f, c) = (&self.faults, &self.checks);
        format!(
            "simulation of the shipped engine: {} seeds ({} with two clients on one store, {} without Web Locks), {} operations ({} accepted into the outbox, {} live only (durable: false); {} never persisted: their page died first or the store refused them, never sent); \
             faults: {} crashes ({} at {} action boundaries, {} at random times), {} close() calls, {} requests dropped, {} responses dropped \
             ({} after the server applied), {} duplicated deliveries, {} 5xx, {} 429, {} 202 + Retry-After with 202 in retryOn, {} 409, {} partitions ({} the device knew: offline/online), \
             {} clock jumps forward, {} backward, {} aborts, {} resubmissions, {} resume() calls, {} store calls failed ({} reported), \
             {} beforeReplay failures, {} unreadable values ({} quarantine reports); \
             attempts: {} live, {} resent; effects: {} applied, {} refused (422), duplicates: {}, lost: {}; \
             reported: {} with a status ({} by a 'settled' event; answered but never reported settled: {}), {} expired, {} aborted; without the key a server would have applied {} ({} duplicates); \
             {} waits within their bound; {} drain rounds found every ready key locked elsewhere (at most {} back to back; \
             longer streaks: {}), {} Retry-After waits in progress at a resume()/online (cut short: {}), \
             {} records found in flight past their TTL (left to their sender), {} expiries left to the key's holder, \
             {} expired under their sender, {} expired reports repeated after a crash, {} settled reports repeated ({} after a crash between the report and the delete), \
             {} records found marked expired with the wall clock back before their TTL (expired, not resent), \
             operations reported both expired and settled: {} (excused: {} resubmitted by the caller, {} without Web Locks); \
             known bug 6: {} operations reported 'expired' after 'settled', a crash having prevented the delete; \
             workflows: {} runs of 3 steps ({} done, {} failed, lost: {}), {} interrupted steps run again with their key; \
             result(key): {} reads got a kept answer (each the server's), {} got null, {} were asked after another read got the answer ({} got it again, each after it was kept again or its delete failed); {} results kept left unread; \
             fleet: {} retries (the tightest client spent {:.0}% of what its budget allowed; {} retries the budget could not pay for), {} breakers opened and told to the other tabs, \
             {} sends checked against them, {} notes between tabs; {} resends linked to an earlier attempt's span; \
             drain(): {} answered ({} operations settled by them, {} left some for later, none wrongly said nothing remained), {} pages shown, {} sync registrations; {} calls ran out of attempts, each after exactly maxAttempts that counted ({} failures while the device was offline, not counted); \
             {} timer wake-ups with nothing due (an earlier timer kept, as io/host.js keeps it)",
            self.seeds, self.two_client_seeds, self.no_web_lock_seeds, self.ops, self.accepted, self.non_durable, self.never_persisted,
            self.crashes(), f.crashes.values().sum::<u64>(), f.crashes.len(), f.random_crashes, f.closes,
            f.requests_dropped, f.responses_dropped, f.applied_but_unanswered, f.duplicated, f.status_5xx,
            f.status_429, f.accepted_later, f.status_409, f.partitions, f.device_offline, f.jumps_forward, f.jumps_backward, f.aborts,
            f.resubmissions, f.resumes, f.store_failures, f.store_errors_reported, f.replay_failures, f.corrupt_records,
            c.quarantined_reports, self.live_attempts, self.resend_attempts, self.effects, self.refused,
            self.duplicates, self.lost, self.reported_status, self.reported_settled, self.unreported,
            self.reported_expired, self.reported_aborted,
            self.naive_effects, self.naive_duplicates, self.waits_checked, c.idle_rounds, c.longest_idle_streak,
            c.long_idle_streaks, c.asked_waits_at_wake, c.retry_after_cut_short, c.in_flight_past_ttl,
            c.expiries_left_to_holder, c.expired_under_sender, c.repeated_expired, c.repeated_settled, c.repeated_settled_after_crash,
            c.marked_expired_before_ttl, c.expired_and_settled, c.expired_and_settled_resubmitted,
            c.expired_and_settled_without_locks, c.expired_after_settled,
            self.runs, self.runs_done, self.runs_failed, self.runs_lost, self.steps_rerun, c.results_read, c.results_null, c.results_after_a_read, c.results_read_again, self.kept_left,
            self.fleet.retries, self.fleet.tightest_budget * 100.0, self.fleet.budget_refusals, self.fleet.shared_opens, self.fleet.sends_while_open,
            self.fleet.notes, self.resend_links,
            c.drains_answered, c.drains_settled, c.drains_left_some, c.pages_shown, c.sync_registrations,
            c.exhausted_checked, c.offline_failures, c.early_wakeups,
        )
    }
}
