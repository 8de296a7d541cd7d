//! The claim protocol on a virtual clock: many server processes share the
//! reference store ([`Slot`]), requests with the same keys arrive at seeded
//! random times, handlers take random time (some longer than the lease),
//! answer 2xx/4xx/5xx or throw, and processes crash mid-handler. Every
//! decision comes from the real core (admit, decide, settle); nothing sleeps.
//!
//! Checked after every step, over 500 seeds:
//! - while a lease holds, one handler at most runs per key;
//! - a request from another caller (scope) than the live record's never runs
//!   and never gets that record's answer: 403;
//! - a stored answer is never overwritten, and every replay is that answer;
//! - a completion from an owner whose lease was taken over is refused;
//! - without crashes, overlong handlers or retryable failures: one run per key.

use std::collections::BTreeMap;

use durafetch_server::core::admission::{admit, Admission};
use durafetch_server::core::claimant::claimant;
use durafetch_server::core::options::Policy;
use durafetch_server::core::record::{ClaimReply, Slot};
use durafetch_server::core::settle::{settle, Body, Settlement};
use durafetch_server::core::verdict::{decide, Reply, Verdict};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough for scheduling, seeded per run.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Status(u16),
    Throw,
    Crash,
}

enum Event {
    Arrive { key: usize, scope: &'static str, request: &'static str },
    Finish { run: usize },
}

struct Run {
    key: usize,
    owner: String,
    lease_until: u64,
    outcome: Outcome,
    finished: bool,
}

#[derive(Default)]
struct Tally {
    runs: usize,
    replays: usize,
    conflicts: usize,
    mismatches: usize,
    other_scopes: usize,
    fenced: usize,
}

struct Config {
    keys: usize,
    arrivals_per_key: usize,
    crash_percent: u64,
    overlong_percent: u64,
    failure_percent: u64,
    other_scope_percent: u64,
}

fn simulate(seed: u64, cfg: &Config) -> (Tally, Vec<usize>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let policy = Policy { lock_timeout_ms: 1_000, ttl_ms: 1_000_000, ..Policy::default() };
    let mut slots: Vec<Slot> = vec![Slot::default(); cfg.keys];
    let mut first_answer: Vec<Option<Vec<u8>>> = vec![None; cfg.keys];
    let mut runs: Vec<Run> = Vec::new();
    let mut runs_per_key = vec![0usize; cfg.keys];
    let mut tally = Tally::default();
    // (time, sequence) -> event: a deterministic order for equal times.
    let mut queue: BTreeMap<(u64, u64), Event> = BTreeMap::new();
    let mut seq = 0u64;
    for key in 0..cfg.keys {
        for _ in 0..cfg.arrivals_per_key {
            let request = if rng.chance(5) { "other" } else { "same" };
            let scope = if rng.chance(cfg.other_scope_percent) { "Bearer mallory" } else { "Bearer alice" };
            queue.insert((rng.below(5_000), seq), Event::Arrive { key, scope, request });
            seq += 1;
        }
    }
    let mut owners = 0u64;

    while let Some(((now, _), event)) = queue.pop_first() {
        match event {
            Event::Arrive { key, scope, request } => {
                let fingerprint = claimant(Some(scope), request);
                let fingerprint = fingerprint.as_str();
                let live_scope_differs = slots[key]
                    .record()
                    .is_some_and(|r| r.until_ms > now && !r.fingerprint.starts_with(&fingerprint[..33]));
                let header = format!("key-{key}");
                let Admission::Claim(k) = admit(&policy, "POST", Some(&header)) else { panic!("a valid key") };
                assert_eq!(k, header);
                owners += 1;
                let owner = format!("owner-{owners}");
                let reply = slots[key].claim(fingerprint, &owner, now, policy.lock_timeout_ms);
                let verdict = match &reply {
                    ClaimReply::Claimed => decide(Reply::Claimed, fingerprint),
                    ClaimReply::Existing(r) => decide(
                        Reply::Existing { fingerprint: &r.fingerprint, response: r.response.as_deref() },
                        fingerprint,
                    ),
                };
                let in_flight = matches!(verdict, Verdict::Answer(p) if p.status() == 409);
                if live_scope_differs {
                    assert!(matches!(verdict, Verdict::Answer(p) if p.status() == 403), "seed {seed}: another scope got {verdict:?}");
                }
                match verdict {
                    Verdict::Run => {
                        // Invariant: no other run of this key holds a live lease.
                        for other in runs.iter().filter(|r| r.key == key && !r.finished) {
                            assert!(other.lease_until <= now, "seed {seed}: two live runs of key {key} at {now}");
                        }
                        let outcome = if rng.chance(cfg.crash_percent) {
                            Outcome::Crash
                        } else if rng.chance(cfg.failure_percent) {
                            if rng.chance(50) { Outcome::Throw } else { Outcome::Status(503) }
                        } else if rng.chance(10) {
                            Outcome::Status(422)
                        } else {
                            Outcome::Status(201)
                        };
                        let duration = if rng.chance(cfg.overlong_percent) { 1_000 + rng.below(2_000) } else { 1 + rng.below(900) };
                        runs.push(Run { key, owner, lease_until: policy.lease_until(now), outcome, finished: false });
                        runs_per_key[key] += 1;
                        tally.runs += 1;
                        if !matches!(outcome, Outcome::Crash) {
                            queue.insert((now + duration, seq), Event::Finish { run: runs.len() - 1 });
                            seq += 1;
                        }
                    }
                    Verdict::Replay(stored) => {
                        tally.replays += 1;
                        let ClaimReply::Existing(r) = &reply else { unreachable!() };
                        assert_eq!(r.response.as_ref(), first_answer[key].as_ref(), "seed {seed}: replay is the stored answer");
                        assert!(stored.status == 201 || stored.status == 422);
                    }
                    Verdict::Answer(p) => match p.status() {
                        403 => tally.other_scopes += 1,
                        409 => tally.conflicts += 1,
                        422 => tally.mismatches += 1,
                        s => panic!("seed {seed}: unexpected {s}"),
                    },
                }
                // A client resends after a conflict or a failure, as durafetch does.
                if in_flight && rng.chance(50) {
                    queue.insert((now + 1_000 + rng.below(1_000), seq), Event::Arrive { key, scope, request });
                    seq += 1;
                }
            }
            Event::Finish { run } => {
                let r = &mut runs[run];
                r.finished = true;
                let (key, owner) = (r.key, r.owner.clone());
                let status = match r.outcome {
                    Outcome::Status(s) => s,
                    Outcome::Throw => 0,
                    Outcome::Crash => unreachable!(),
                };
                let settlement = if status == 0 {
                    Settlement::Release
                } else {
                    let body = format!("answer of {owner}");
                    settle(&policy, status, &[], Body::Complete(body.as_bytes()), None)
                };
                match settlement {
                    Settlement::Store(bytes) => {
                        let taken_over = slots[key].record().map(|rec| rec.owner != owner).unwrap_or(true);
                        let stored = slots[key].complete(&owner, bytes.clone(), now, policy.ttl_ms);
                        assert_eq!(stored, !taken_over, "seed {seed}: completion fenced exactly when taken over");
                        if stored {
                            assert!(first_answer[key].is_none(), "seed {seed}: a second answer for key {key}");
                            first_answer[key] = Some(bytes);
                        } else {
                            tally.fenced += 1;
                        }
                    }
                    Settlement::Release => {
                        slots[key].release(&owner);
                        // The client resends a failed request.
                        queue.insert((now + 10 + rng.below(500), seq), Event::Arrive { key, scope: "Bearer alice", request: "same" });
                        seq += 1;
                    }
                }
            }
        }
        // Invariant: what a slot holds as an answer is the first one stored.
        for (key, slot) in slots.iter().enumerate() {
            if let Some(resp) = slot.record().and_then(|r| r.response.as_ref()) {
                assert_eq!(Some(resp), first_answer[key].as_ref(), "seed {seed}: answer of key {key} overwritten");
            }
        }
    }
    (tally, runs_per_key)
}

#[test]
fn one_run_per_key_when_nothing_fails() {
    let cfg = Config { keys: 20, arrivals_per_key: 8, crash_percent: 0, overlong_percent: 0, failure_percent: 0, other_scope_percent: 0 };
    for seed in 0..500 {
        let (tally, runs_per_key) = simulate(seed, &cfg);
        assert!(runs_per_key.iter().all(|&n| n == 1), "seed {seed}: {runs_per_key:?}");
        assert_eq!(tally.fenced, 0);
        assert!(tally.replays + tally.conflicts > 0);
    }
}

#[test]
fn crashes_overlong_handlers_and_failures_never_store_two_answers() {
    let cfg = Config { keys: 20, arrivals_per_key: 8, crash_percent: 10, overlong_percent: 15, failure_percent: 15, other_scope_percent: 10 };
    let mut total = Tally::default();
    let mut extra_runs = 0;
    for seed in 0..500 {
        let (tally, runs_per_key) = simulate(seed, &cfg);
        extra_runs += runs_per_key.iter().map(|&n| n.saturating_sub(1)).sum::<usize>();
        total.runs += tally.runs;
        total.replays += tally.replays;
        total.conflicts += tally.conflicts;
        total.mismatches += tally.mismatches;
        total.other_scopes += tally.other_scopes;
        total.fenced += tally.fenced;
    }
    // The paths under test were taken, many times.
    assert!(total.fenced > 100, "late completions refused: {}", total.fenced);
    assert!(extra_runs > 1_000, "takeovers and re-runs after release: {extra_runs}");
    assert!(total.replays > 1_000 && total.conflicts > 1_000 && total.mismatches > 100 && total.other_scopes > 100);
    println!(
        "500 seeds: {} runs ({extra_runs} beyond the first per key), {} replays, {} conflicts, {} mismatches, {} refused to another scope, {} late completions refused",
        total.runs, total.replays, total.conflicts, total.mismatches, total.other_scopes, total.fenced
    );
}
