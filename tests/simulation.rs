#![cfg(not(target_arch = "wasm32"))]
//! Issue 7, part 1: exactly-once effects under faults, by deterministic
//! simulation. The durable protocol of src/shell (persist, send, delete on a
//! definitive answer, queue, drain) is modelled await for await over the
//! real pure core, on a virtual clock, against a deduplicating server, with
//! crashes at every await, lost and duplicated packets, 5xx/429, partitions,
//! clock jumps and two clients on one store. See tests/sim/.
//!
//! Replay one seed: `SIM_SEED=123 SIM_TRACE=1 cargo test --test simulation summary -- --nocapture`
//! (`SIM_TRACE` prints its event log). More seeds: `SIM_SEEDS=20000`.

#[path = "sim/mod.rs"]
mod sim;

use std::io::Write;

use sim::report::{run_seed, SeedRun, Totals};
use sim::world::{Config, Mutant};

const SEEDS: u64 = 2_000;
const OPS: usize = 20;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn seeds() -> Vec<u64> {
    match env_u64("SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SIM_SEEDS").unwrap_or(SEEDS)).collect(),
    }
}

fn stderr(line: &str) {
    // Straight to the handle: libtest captures print macros, not this.
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn run(seed: u64, known_bug_windows: bool, mutant: Mutant, trace: bool) -> SeedRun {
    let cfg = Config { mutant, ..Config::for_seed(seed, OPS, known_bug_windows) };
    let run = run_seed(cfg, trace);
    run.trace.iter().for_each(|line| stderr(line));
    run
}

/// Runs the seeds; returns the figures and each failing seed's violations.
pub fn run_seeds(seeds: &[u64], mutant: Mutant) -> (Totals, Vec<(u64, Vec<String>)>) {
    let trace = std::env::var("SIM_TRACE").is_ok() && seeds.len() == 1;
    let mut totals = Totals::default();
    let mut failures = Vec::new();
    for &seed in seeds {
        let run = run(seed, false, mutant, trace);
        totals.add(&run.totals);
        if !run.violations.is_empty() {
            failures.push((seed, run.violations));
        }
    }
    (totals, failures)
}

fn describe(failures: &[(u64, Vec<String>)]) -> String {
    let mut out = format!("{} failing seeds.", failures.len());
    for (seed, violations) in failures.iter().take(5) {
        out += &format!("\nseed {seed} (replay: SIM_SEED={seed} SIM_TRACE=1 cargo test --test simulation summary -- --nocapture):");
        for v in violations.iter().take(5) {
            out += &format!("\n  - {v}");
        }
    }
    out
}

/// Every await of the protocol where the simulation crashes a client
/// (except `drain:expired-deleted`: see `known_bug_expiry_report_lost_to_a_crash`).
const CRASH_POINTS: [&str; 18] = [
    "live:got",
    "live:persisted",
    "live:locked",
    "live:in-flight",
    "live:answered",
    "live:retry-persisted",
    "live:settled-deleted",
    "live:queued-persisted",
    "live:aborted-deleted",
    "drain:round-locked",
    "drain:listed",
    "resend:locked",
    "resend:reread",
    "resend:breaker-persisted",
    "resend:in-flight",
    "resend:answered",
    "resend:settled-deleted",
    "resend:retry-persisted",
];

/// The exactly-once properties over every seed, and the figures. The
/// summary goes straight to stderr, so it shows without --nocapture.
#[test]
fn summary() {
    let seeds = seeds();
    let (totals, failures) = run_seeds(&seeds, Mutant::None);
    stderr(&totals.summary_line());
    stderr(&format!("crashes by await: {}", totals.crash_points()));
    assert!(failures.is_empty(), "{}", describe(&failures));
    assert_eq!((totals.duplicates, totals.lost), (0, 0));
    if (seeds.len() as u64) < SEEDS {
        return;
    }
    // The run is evidence only if every fault actually happened.
    let f = &totals.faults;
    let kinds = [
        ("requests dropped", f.requests_dropped),
        ("responses dropped after the server applied", f.applied_but_unanswered),
        ("duplicated deliveries", f.duplicated),
        ("5xx", f.status_5xx),
        ("429", f.status_429),
        ("409", f.status_409),
        ("partitions", f.partitions),
        ("clock jumps forward", f.jumps_forward),
        ("clock jumps backward", f.jumps_backward),
        ("aborts", f.aborts),
        ("resubmissions", f.resubmissions),
        ("random crashes", f.random_crashes),
        ("seeds with two clients", totals.two_client_seeds),
        ("seeds without Web Locks", totals.no_web_lock_seeds),
        ("expired reports", totals.reported_expired),
        ("resends", totals.resend_attempts),
    ];
    for (kind, n) in kinds {
        assert!(n > 0, "no {kind}: the run proves less than it claims");
    }
    for label in CRASH_POINTS {
        assert!(f.crashes.get(label).copied().unwrap_or(0) > 0, "no crash at {label}");
    }
    assert!(totals.naive_duplicates > 0, "without keys nothing would have been applied twice: the faults are too mild");
}

#[test]
fn a_seed_replays_identically() {
    let a = run_seed(Config::for_seed(7, OPS, false), true);
    let b = run_seed(Config::for_seed(7, OPS, false), true);
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
    ];
    for (mutant, expected) in cases {
        let caught = (0..500).find(|&seed| run(seed, false, mutant, false).violations.iter().any(|v| v.contains(expected)));
        assert!(caught.is_some(), "{mutant:?} was never caught as '{expected}' in 500 seeds");
    }
}

/// The first seed (of SIM_SEED / SIM_SEEDS / the default range) whose run
/// shows `bug`, with its description and how to replay it.
fn first_seed_showing(test: &str, known_bug_windows: bool, bug: impl Fn(&SeedRun) -> Option<String>) -> Option<String> {
    let seeds = seeds();
    let trace = std::env::var("SIM_TRACE").is_ok() && seeds.len() == 1;
    seeds.into_iter().find_map(|seed| {
        let found = bug(&run(seed, known_bug_windows, Mutant::None, trace))?;
        let replay = format!("SIM_SEED={seed} SIM_TRACE=1 cargo test --test simulation {test} -- --ignored --nocapture");
        Some(format!("seed {seed}: {found} (replay: {replay})"))
    })
}

/// Known bug 1 (src/shell/drain.rs `drain_round`): a round whose ready
/// resends all found their key locked by another context (a live call or a
/// resend in another tab) returns `Some(now_ms())`, and `drain_loop` runs the
/// next round at once: list the store, ask for the lock, fail, again, for as
/// long as the other attempt is in flight. Nothing is sent twice, but it is a
/// busy loop on IndexedDB and Web Locks.
#[test]
#[ignore = "known bug: the drainer busy-loops while another context holds a key (src/shell/drain.rs drain_round)"]
fn known_bug_drain_busy_loops_on_a_key_held_elsewhere() {
    let found = first_seed_showing("known_bug_drain_busy_loops", false, |run| run.totals.known.spin_example.clone());
    assert!(found.is_none(), "{}", found.unwrap_or_default());
}

/// Known bug 2 (src/shell/live.rs `run`, src/shell/client.rs `wake_all`):
/// a live call's wait for the server's Retry-After sits in `sleepers` like
/// any backoff, so `resume()` or the 'online' event ends it and the call
/// resends before the time the server asked for. The drainer honours
/// notBefore; the live call does not.
#[test]
#[ignore = "known bug: resume()/online cuts a live call's Retry-After wait short (src/shell/live.rs run)"]
fn known_bug_resume_cuts_a_live_retry_after_short() {
    let found = first_seed_showing("known_bug_resume_cuts", false, |run| run.totals.known.retry_after_example.clone());
    assert!(found.is_none(), "{}", found.unwrap_or_default());
}

/// Known bug 3 (src/shell/drain.rs `drain_round`): an expired record is
/// deleted, then reported (giveup 'expired'). A crash between the two loses
/// the report: the operation was accepted, is not applied, and nobody is
/// ever told. The main run does not crash at that await; this one does.
#[test]
#[ignore = "known bug: a crash between deleting an expired record and reporting it loses the operation silently"]
fn known_bug_expiry_report_lost_to_a_crash() {
    let found = first_seed_showing("known_bug_expiry_report_lost", true, |run| {
        run.violations.iter().find(|v| v.starts_with("lost")).cloned()
    });
    assert!(found.is_none(), "{}", found.unwrap_or_default());
}

/// Known bug 4 (src/core/outbox.rs `plan` lists a busy record as expired;
/// src/shell/drain.rs deletes it without the key's lock): a record whose
/// live call is in flight when it expires (a clock jump, a laptop waking
/// after a day) is deleted and reported 'expired'; the live call then
/// settles it (a second, contradicting report) or re-persists it on a
/// transient outcome (expired and reported again).
#[test]
#[ignore = "known bug: a record in flight is expired under its live call (src/core/outbox.rs plan)"]
fn known_bug_in_flight_record_expired_under_its_live_call() {
    let found = first_seed_showing("known_bug_in_flight_record_expired", false, |run| {
        run.totals.known.expired_and_settled_example.clone()
    });
    assert!(found.is_none(), "{}", found.unwrap_or_default());
}
