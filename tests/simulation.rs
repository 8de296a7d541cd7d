#![cfg(not(target_arch = "wasm32"))]
//! Exactly-once effects under faults, by deterministic simulation of the
//! shipped protocol: tests/sim/host.rs performs the actions of the very
//! engine the wasm shell runs (src/core/engine), against a simulated
//! network, store, Web Locks and clock, and may crash before any action or
//! completion. Against a deduplicating server, with lost and duplicated
//! packets, 5xx/429, partitions (known to the device or not), clock jumps,
//! aborts, close(), failing store calls, beforeReplay failures, unreadable
//! records, calls that are not durable, and two clients on one store with
//! and without Web Locks. See tests/sim/.
//!
//! Replay one seed: `SIM_SEED=123 SIM_TRACE=1 cargo test --test simulation summary -- --nocapture`
//! (`SIM_TRACE` prints its event log). More seeds: `SIM_SEEDS=20000`.

#[path = "sim/mod.rs"]
mod sim;

use std::sync::OnceLock;

use durafetch::core::engine::Mutant;
use sim::checker::MAX_IDLE_STREAK;
use sim::report::run_seed;
use sim::runs::{describe, failing, full_range, run, run_config, run_seeds, seeds, stderr, Runs, OPS};
use sim::world::Config;

/// The main run (every seed, every crash point), shared by the tests that
/// read it: it runs once per test binary.
fn main_run() -> &'static Runs {
    static MAIN: OnceLock<Runs> = OnceLock::new();
    MAIN.get_or_init(|| run_seeds(&seeds(), |seed| Config::for_seed(seed, OPS)))
}

/// The seeds again, crashing half the time between reporting an expiry and
/// deleting its record; shared like the main run.
fn expiry_crash_run() -> &'static Runs {
    static RUN: OnceLock<Runs> = OnceLock::new();
    RUN.get_or_init(|| run_seeds(&seeds(), |seed| Config { focus_crash: Some((EXPIRY_CRASH, 0.5)), ..Config::for_seed(seed, OPS) }))
}

/// The tab dies after reporting an expiry, before deleting its record.
const EXPIRY_CRASH: &str = "delete:expire-delete";

/// Action boundaries where the main run must have crashed a client at
/// least once (it crashes at every boundary; these are the ones each
/// guarantee rests on). `done:*` is a store call that committed, its tab
/// dead before hearing so; `reply:*` an answer that arrived at a dead tab.
const CRASH_POINTS: [&str; 39] = [
    "get:call-read",
    "put:call-persist",
    "done:call-persist",
    "lock:call-lock",
    "send:live",
    "reply:aborted",
    "reply:live",
    "emit:retry",
    "put:call-progress",
    "done:call-progress",
    "emit:settled",
    "resolve",
    "delete:call-settled",
    "done:call-settled",
    "put:call-queued",
    "emit:queued",
    "lock:drain-lock",
    "list:drain-list",
    "done:drain-list",
    "lock:resend-lock",
    "get:resend-reread",
    "send:resend",
    "reply:resend",
    "delete:resend-settled",
    "put:resend-progress",
    "lock:expire-lock",
    "put:expire-mark",
    "emit:giveup",
    "delete:expire-delete",
    "unlock:key",
    "lock:run-lock",
    "get:run-read",
    "put:run-journal",
    "done:run-journal",
    "execute",
    "step-go",
    "put:result-keep",
    "announce",
    "lock:probe-lock",
];

/// The exactly-once properties over every seed, and the figures. The
/// summary goes straight to stderr, so it shows without --nocapture.
#[test]
fn summary() {
    let runs = main_run();
    let totals = &runs.totals;
    stderr(&totals.summary_line());
    stderr(&format!("crashes by action boundary: {}", totals.crash_points()));
    assert!(runs.failures.is_empty(), "{}", describe("summary", &runs.failures, ""));
    assert_eq!((totals.duplicates, totals.lost), (0, 0));
    if !full_range() {
        return;
    }
    // The run is evidence only if every fault actually happened.
    let f = &totals.faults;
    let c = &totals.checks;
    let kinds = [
        ("requests dropped", f.requests_dropped),
        ("responses dropped after the server applied", f.applied_but_unanswered),
        ("duplicated deliveries", f.duplicated),
        ("5xx", f.status_5xx),
        ("429", f.status_429),
        ("409", f.status_409),
        ("partitions", f.partitions),
        ("partitions the device knew about", f.device_offline),
        ("close() calls", f.closes),
        ("failed store calls", f.store_failures),
        ("beforeReplay failures", f.replay_failures),
        ("unreadable values", f.corrupt_records),
        ("calls that are not durable", totals.non_durable),
        ("clock jumps forward", f.jumps_forward),
        ("clock jumps backward", f.jumps_backward),
        ("aborts", f.aborts),
        ("resubmissions", f.resubmissions),
        ("random crashes", f.random_crashes),
        ("seeds with two clients", totals.two_client_seeds),
        ("seeds without Web Locks", totals.no_web_lock_seeds),
        ("expired reports", totals.reported_expired),
        ("resends", totals.resend_attempts),
        ("drain rounds with every ready key locked elsewhere", c.idle_rounds),
        ("server-asked waits in progress at a resume", c.asked_waits_at_wake),
        ("records in flight past their TTL", c.in_flight_past_ttl + c.expiries_left_to_holder),
        ("resends linked to their first attempt's span", totals.resend_links),
        ("drain() calls answered", c.drains_answered),
        ("operations settled by drains", c.drains_settled),
        ("drains that left operations for later", c.drains_left_some),
        ("pages shown", c.pages_shown),
        ("sync registrations", c.sync_registrations),
    ];
    for (kind, n) in kinds {
        assert!(n > 0, "no {kind}: the run proves less than it claims");
    }
    for label in CRASH_POINTS {
        assert!(f.crashes.get(label).copied().unwrap_or(0) > 0, "no crash at {label}");
    }
    assert!(totals.naive_duplicates > 0, "without keys nothing would have been applied twice: the faults are too mild");
}

/// Workflows (src/core/engine/run.rs, tests/sim/workflows.rs), crashing at
/// every journal write and its completion like everywhere else: a step the
/// journal committed never runs again, two contexts never run one run at
/// once (with Web Locks), every run started ends, and a run that completed
/// applied each step exactly once.
#[test]
fn workflow_runs_resume_at_the_interrupted_step_and_are_never_lost() {
    let runs = main_run();
    let t = &runs.totals;
    for what in ["lost: run", "ran again after the journal", "two runners", "was lost: result(key)", "run "] {
        assert_eq!(failing(runs, what), 0, "{}", describe("workflow_runs", &runs.failures, what));
    }
    assert_eq!(t.runs_lost, 0);
    if full_range() {
        assert!(t.runs > 1_000 && t.runs_done > t.runs / 2, "{} runs, {} done", t.runs, t.runs_done);
        assert!(t.steps_rerun > 0, "no interrupted step was run again: nothing was shown");
    }
}

#[test]
fn a_seed_replays_identically() {
    let a = run_seed(Config::for_seed(7, OPS), true);
    let b = run_seed(Config::for_seed(7, OPS), true);
    assert!(a.trace.len() > 50, "seed 7 does something");
    assert_eq!(a.trace, b.trace);
}

/// The checks are not vacuous: each deliberately broken protocol fails
/// within a few hundred seeds, with the violation its breakage implies.
#[test]
fn broken_protocols_are_caught() {
    let cases = [
        (Mutant::SendBeforePersist, "without a stored record"),
        (Mutant::KeyPerAttempt, "duplicate: op"),
        (Mutant::NoRereadUnderLock, "after it settled"),
        (Mutant::ForgetWhenQueued, "lost: op"),
        (Mutant::DeleteBeforeSettled, "unreported: op"),
        (Mutant::NoWakeAfterBusy, "lost: record"),
        (Mutant::FreshStepKeys, "duplicate: op"),
        (Mutant::NoReplay, "ran again after the journal committed it"),
        (Mutant::ResendBesideLiveCall, "in flight"),
        (Mutant::NoLinger, "in flight"),
        (Mutant::UnlockWhileLingering, "in flight (Web Locks)"),
        (Mutant::RetryAfterOnlyOnErrors, "the server asked"),
        (Mutant::StepFailsOnlyOn5xx, "committed done on status"),
        (Mutant::ResentCountsAsDone, "drain said nothing remains"),
        (Mutant::OfflineFactIgnored, "ran out of attempts after"),
        (Mutant::NoBudget, "budget:"),
        (Mutant::UnsharedOrigins, "while the breaker"),
        (Mutant::ProbeWithoutLock, "two probes at once"),
        (Mutant::AnswerReadBeforeDelete, "read twice"),
        (Mutant::StepThrowIgnored, "lost"),
    ];
    for (mutant, expected) in cases {
        let caught = (0..500).find(|&seed| run(seed, mutant, false).violations.iter().any(|v| v.contains(expected)));
        assert!(caught.is_some(), "{mutant:?} was never caught as '{expected}' in 500 seeds");
    }
}

/// One breaker and one retry budget per origin across tabs (src/core/engine/
/// fleet.rs, attempt.rs; checked in tests/sim/fleet.rs): no client retries
/// beyond what its bucket could pay; once a tab's breaker opens and it has
/// told the others, no tab that heard sends to that origin for the shortest
/// cooldown, and until it closes they have at most one attempt out (the
/// probe, under the probe lock, which a failed prober keeps through the
/// cooldown it opened). The mutants NoBudget, UnsharedOrigins and
/// ProbeWithoutLock each break one of these (`broken_protocols_are_caught`).
#[test]
fn one_breaker_and_one_budget_per_origin_across_tabs() {
    let runs = main_run();
    for what in ["budget:", "fleet:"] {
        assert_eq!(failing(runs, what), 0, "{}", describe("one_breaker_and_one_budget", &runs.failures, what));
    }
    if full_range() {
        let f = &runs.totals.fleet;
        assert!(f.budget_refusals > 0, "the budget never refused a retry: nothing was shown");
        assert!(f.shared_opens > 0 && f.sends_while_open > 0, "no breaker opened across tabs with traffic after: nothing was shown");
        assert!(f.notes > 0, "no tab heard another");
    }
}

/// Once known bug 1 (the drain round, now src/core/engine/drain.rs): a round whose ready
/// resends all found their key locked by another context ran the next round
/// at once, for as long as the other attempt was in flight. Now it waits
/// (at most LOCKED_RETRY_MS): such rounds never follow each other back to
/// back more than drain::MAX_IDLE_STREAK times.
#[test]
fn no_spin_when_every_ready_record_is_locked_elsewhere() {
    let runs = main_run();
    let c = &runs.totals.checks;
    assert_eq!(failing(runs, "spin:"), 0, "{}", describe("no_spin", &runs.failures, "spin:"));
    assert_eq!(c.long_idle_streaks, 0);
    assert!(c.longest_idle_streak <= MAX_IDLE_STREAK, "{} idle rounds back to back", c.longest_idle_streak);
    if full_range() {
        assert!(c.idle_rounds > 0, "no round found its keys locked elsewhere: nothing was shown");
    }
}

/// Once known bug 2 (a live call's wait, now src/core/engine/call.rs): `resume()` and 'online'
/// ended a live call's wait for the server's Retry-After, and it resent
/// early. Now only the caller's abort ends such a wait.
#[test]
fn resume_never_cuts_a_server_asked_wait() {
    let runs = main_run();
    let c = &runs.totals.checks;
    let what = "retry-after cut short";
    assert_eq!(failing(runs, what), 0, "{}", describe("resume_never_cuts", &runs.failures, what));
    assert_eq!(c.retry_after_cut_short, 0);
    if full_range() {
        assert!(c.asked_waits_at_wake > 0, "no resume() during a server-asked wait: nothing was shown");
    }
}

/// Once known bug 3 (expiry, now src/core/engine/expire.rs): an expired record was deleted,
/// then reported; a crash between the two lost the operation without a
/// word. Now it is reported first, so a crash in between reports it again
/// (at-least-once). These seeds crash at that point half the time.
#[test]
fn an_expiry_is_never_lost_to_a_crash() {
    let runs = expiry_crash_run();
    let t = &runs.totals;
    let c = &t.checks;
    let crashes = t.faults.crashes.get(EXPIRY_CRASH).copied().unwrap_or(0);
    stderr(&format!(
        "expiry crash run: {crashes} crashes at {EXPIRY_CRASH}, {} expired reports ({} repeated), lost: {}; \
         {} records found marked expired with the wall clock back before their TTL; known bug 6: {}",
        t.reported_expired, c.repeated_expired, t.lost, c.marked_expired_before_ttl, c.expired_after_settled
    ));
    assert!(runs.failures.is_empty(), "{}", describe("an_expiry_is_never_lost", &runs.failures, ""));
    assert_eq!(t.lost, 0);
    if full_range() {
        assert!(crashes > 0, "no crash at {EXPIRY_CRASH}: nothing was shown");
        assert!(c.repeated_expired > 0, "{crashes} crashes at {EXPIRY_CRASH}, but no expiry was reported again");
    }
}

/// Once a bug the browser soak found (now src/core/engine/call.rs and
/// resend.rs): a definitive answer deleted the
/// record, then reported 'settled'; a page that died in between applied
/// the operation and told nobody. Now 'settled' comes first: a crash in between leaves the record,
/// the next sender gets the server's replay and reports it again, with the
/// same status. Every operation the server answered and whose record is
/// gone was reported 'settled' at least once, or gave up ('expired',
/// 'aborted'); `broken_protocols_are_caught` shows the old order fails this.
#[test]
fn every_answer_is_reported_settled_at_least_once() {
    let runs = main_run();
    let t = &runs.totals;
    for what in ["unreported:", "settled twice, differently"] {
        assert_eq!(failing(runs, what), 0, "{}", describe("every_answer_is_reported", &runs.failures, what));
    }
    assert_eq!(t.unreported, 0);
    if full_range() {
        assert!(t.checks.repeated_settled_after_crash > 0, "no 'settled' was reported again after a crash: nothing was shown");
    }
}

/// Once known bug 4 (src/core/outbox.rs `plan`, src/core/engine/expire.rs): a
/// record in flight when it expired (a clock jump, a laptop waking after a
/// day) was deleted and reported 'expired' under its sender, which then
/// settled it. Now `plan` never expires a busy record, and `expire` leaves
/// one whose key another context holds. With Web Locks (without them,
/// processes sharing an adapter store must serialise themselves), no
/// expiry is reported while an attempt is in flight, and, unless the caller
/// resubmitted it, nothing reported expired is sent or settled afterwards,
/// and nothing is expired after it was reported settled (but for known bug
/// 6 below, counted apart).
#[test]
fn a_record_being_sent_is_never_expired() {
    let runs = main_run();
    let c = &runs.totals.checks;
    for what in ["expired under its sender", "expired and settled", "after it was reported expired"] {
        assert_eq!(failing(runs, what), 0, "{}", describe("a_record_being_sent", &runs.failures, what));
    }
    assert_eq!((c.expired_under_sender, c.expired_and_settled), (0, 0));
    if full_range() {
        assert!(c.in_flight_past_ttl + c.expiries_left_to_holder > 0, "no record was in flight past its TTL: nothing was shown");
    }
}

/// Once known bug 5 (src/core/engine/expire.rs, found with fix 3): a
/// crash between reporting 'expired' and deleting left the record; with
/// the wall clock set back before its expiry, the next round found it
/// unexpired and resent it after the application had been told it gave up
/// (seed 144 then; the crash points added since draw from the seeds'
/// streams, so seeds no longer replay those runs). Now the expiry is written into the record (`expiredAt`)
/// before it is reported, and `plan` treats a marked record as expired
/// whatever the clock says: nothing reported expired is ever sent again,
/// in the main run or in the expiry-crash run, unless the caller
/// resubmitted it.
#[test]
fn an_expired_record_is_never_revived_by_the_clock() {
    for (name, runs) in [("main", main_run()), ("expiry crash", expiry_crash_run())] {
        for what in ["after it was reported expired", "expired and settled"] {
            let failures = describe("an_expired_record_is_never_revived", &runs.failures, what);
            assert_eq!(failing(runs, what), 0, "{name} run: {failures}");
        }
    }
    if full_range() {
        let c = &expiry_crash_run().totals.checks;
        assert!(c.marked_expired_before_ttl > 0, "no marked record was found with the clock set back: nothing was shown");
    }
}

/// Known bug 6 (src/core/engine/call.rs, resend.rs and expire.rs, found
/// with the settled-first order): a
/// page that dies between reporting 'settled' and deleting the record
/// leaves it stored, and nothing in it says it settled. If its TTL passes
/// before the next drain resends it (a clock jump here; a browser closed
/// for longer than ttlMs in life), the drainer expires it: the application
/// is told 'expired' for an operation it was told settled (applied once).
/// The main and expiry-crash runs count these (the summary's "known bug
/// 6") instead of failing; any other expired-and-settled still fails them.
#[test]
#[ignore = "known bug: a record whose 'settled' was reported, its delete prevented by a crash, is later reported 'expired' (src/core/engine/expire.rs)"]
fn known_bug_a_settled_operation_is_reported_expired_after_a_crash() {
    let seeds = seeds();
    let trace = std::env::var("SIM_TRACE").is_ok() && seeds.len() == 1;
    let found = seeds.into_iter().find_map(|seed| {
        let found = run_config(Config::for_seed(seed, OPS), trace).totals.checks.expired_after_settled_example?;
        let replay = format!("SIM_SEED={seed} SIM_TRACE=1 cargo test --test simulation known_bug_a_settled -- --ignored --nocapture");
        Some(format!("seed {seed}: {found} (replay: {replay})"))
    });
    assert!(found.is_none(), "{}", found.unwrap_or_default());
}
