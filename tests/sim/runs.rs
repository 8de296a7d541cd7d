//! Running many seeds for tests/simulation.rs: which seeds (SIM_SEED,
//! SIM_SEEDS), their summed figures, and failures told with how to replay them.

use std::io::Write;

use super::report::{run_seed, SeedRun, Totals};
use super::world::Config;
use durafetch::core::engine::Mutant;

pub const SEEDS: u64 = 2_000;
pub const OPS: usize = 20;

pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

pub fn seeds() -> Vec<u64> {
    match env_u64("SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SIM_SEEDS").unwrap_or(SEEDS)).collect(),
    }
}

pub fn stderr(line: &str) {
    // Straight to the handle: libtest captures print macros, not this.
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub fn run_config(cfg: Config, trace: bool) -> SeedRun {
    let run = run_seed(cfg, trace);
    run.trace.iter().for_each(|line| stderr(line));
    run
}

pub fn run(seed: u64, mutant: Mutant, trace: bool) -> SeedRun {
    run_config(Config { mutant, ..Config::for_seed(seed, OPS) }, trace)
}

/// The figures of some seeds, and each failing seed's violations.
pub struct Runs {
    pub totals: Totals,
    pub failures: Vec<(u64, Vec<String>)>,
}

/// Runs `config(seed)` for each seed.
pub fn run_seeds(seeds: &[u64], config: impl Fn(u64) -> Config) -> Runs {
    let trace = std::env::var("SIM_TRACE").is_ok() && seeds.len() == 1;
    let mut runs = Runs { totals: Totals::default(), failures: Vec::new() };
    for &seed in seeds {
        let run = run_config(config(seed), trace);
        runs.totals.add(&run.totals);
        if !run.violations.is_empty() {
            runs.failures.push((seed, run.violations));
        }
    }
    runs
}

/// The failing seeds (those with a violation mentioning `only`), with how
/// to replay each in `test`.
pub fn describe(test: &str, failures: &[(u64, Vec<String>)], only: &str) -> String {
    let failures: Vec<(u64, Vec<&String>)> = failures
        .iter()
        .map(|(seed, v)| (*seed, v.iter().filter(|v| v.contains(only)).collect::<Vec<_>>()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut out = format!("{} failing seeds.", failures.len());
    for (seed, violations) in failures.iter().take(5) {
        out += &format!("\nseed {seed} (replay: SIM_SEED={seed} SIM_TRACE=1 cargo test --test simulation {test} -- --nocapture):");
        for v in violations.iter().take(5) {
            out += &format!("\n  - {v}");
        }
    }
    out
}

/// How many seeds failed with a violation mentioning `what`.
pub fn failing(runs: &Runs, what: &str) -> usize {
    runs.failures.iter().filter(|(_, v)| v.iter().any(|v| v.contains(what))).count()
}

/// The default seed range or more: evidence checks apply.
pub fn full_range() -> bool {
    env_u64("SIM_SEED").is_none() && env_u64("SIM_SEEDS").unwrap_or(SEEDS) >= SEEDS
}
