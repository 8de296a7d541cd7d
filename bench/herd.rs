//! Thundering-herd simulation (issue 6, part 7): durafetch's pure core on a
//! virtual clock, natively, with no sleeping.
//!
//! Model 1, the herd: 1,000 clients each need one request to succeed. The
//! server refuses connections for the first 10 s, then serves at most C
//! requests per wall-clock second (the first C in each second get 200, the rest
//! 503, as an overloaded server would). Answers are instant; time advances in
//! whole milliseconds through a BinaryHeap of next-send times. Clients start
//! spread uniformly over the first second. Each client drives its own
//! `Schedule` and seeded `SplitMix64`, and waits
//!  1. no jitter: `Backoff::ceiling_ms(n)` = min(cap, base·2^n) exactly,
//!  2. full jitter: the `delay_ms` that `Schedule::after` returns,
//!  3. full jitter plus its own per-origin `Breaker` (defaults): `admit` is
//!     asked before each attempt and a rejection sends nothing and waits out
//!     the rest of the cooldown.
//!
//! Model 3, a fleet of tabs: 1,000 users with 4 tabs each (4,000 tabs), each
//! tab needing one request to succeed, the same outage. Every tab uses full
//! jitter and a breaker (defaults); the breaker, and a retry budget (defaults:
//! 500 tokens, 5 a retry, 10 after no answer, refunds, 1 a second) when there
//! is one, are either each tab's own or one per user across its tabs, as
//! browsers share them over a BroadcastChannel (src/core/engine/fleet.rs:
//! modelled here as heard at once; the Chromium test measures the real
//! thing). A retry the budget cannot pay waits until it can, as a durable
//! call's queued record does. Also a brownout, where a budget is meant to
//! bind: the server up with room for every call but failing half of them
//! with a 503, so successes keep resetting the breakers' counts.
//!
//! Model 2 re-creates aws-samples/aws-arch-backoff-simulator (Brooker,
//! "Exponential Backoff and Jitter"): N clients update one OCC row. Each reads
//! the version, then writes it back; the write succeeds only if nobody wrote
//! in between. Every hop costs a network delay |Normal(10, 2)|; after a failed
//! write the client waits backoff(attempt) (attempt = 1 on the first retry,
//! base 5, cap 2000) and reads again. Calls are writes, averaged over 100 runs.
//! Same units, but in integer microseconds so `Backoff` keeps its resolution.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;

use durafetch::core::backoff::Backoff;
use durafetch::core::breaker::{Admission, Breaker, BreakerConfig};
use durafetch::core::budget::{Budget, BudgetConfig};
use durafetch::core::clock::Mono;
use durafetch::core::outcome::Outcome;
use durafetch::core::rng::SplitMix64;
use durafetch::core::schedule::{Decision, RetryPolicy, Schedule};

const SEED: u64 = 0xD0_5EED_0607;
const CLIENTS: usize = 1_000;
const OUTAGE_MS: u64 = 10_000;
const START_SPREAD_MS: u64 = 1_000;
const CAPACITIES: [u32; 2] = [100, 500];
const USERS: usize = 1_000;
const TABS: usize = 4;
const OCC_CLIENTS: usize = 100;
const OCC_RUNS: u64 = 100;
const SVG_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/herd.svg");
/// The tables as Markdown, for bench/results.md.
const MD_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/herd.md");

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Strategy {
    #[default]
    NoJitter,
    FullJitter,
    FullJitterBreaker,
}

impl Strategy {
    const ALL: [Strategy; 3] = [Strategy::NoJitter, Strategy::FullJitter, Strategy::FullJitterBreaker];

    fn label(self) -> &'static str {
        match self {
            Strategy::NoJitter => "no jitter (exponential)",
            Strategy::FullJitter => "full jitter",
            Strategy::FullJitterBreaker => "full jitter + breaker",
        }
    }
}

/// Generous bounds so every client keeps trying until it succeeds.
fn herd_policy() -> RetryPolicy {
    RetryPolicy { max_attempts: 1_000, deadline_ms: 3_600_000, ..RetryPolicy::default() }
}

/// Refuses connections, then serves the first `capacity` requests of each
/// wall-clock second and answers 503 to the rest. Requests come in time order.
/// In a brownout it does not refuse connections during the outage: it answers
/// 503 to one request in two (drawn), within the same capacity.
struct Server {
    capacity: u32,
    outage_ms: u64,
    second: u64,
    served: u32,
    brownout: Option<SplitMix64>,
}

impl Server {
    fn new(capacity: u32, outage_ms: u64, brownout: bool) -> Server {
        let brownout = brownout.then(|| SplitMix64::new(SEED ^ 0xB70E));
        Server { capacity, outage_ms, second: 0, served: 0, brownout }
    }

    fn answer(&mut self, now_ms: u64) -> Outcome {
        if now_ms < self.outage_ms {
            let Some(rng) = self.brownout.as_mut() else { return Outcome::Network };
            if rng.up_to(1) == 0 {
                return Outcome::Response { status: 503, retry_after_ms: None };
            }
        }
        if now_ms / 1_000 != self.second {
            (self.second, self.served) = (now_ms / 1_000, 0);
        }
        let ok = self.served < self.capacity;
        self.served += ok as u32;
        Outcome::Response { status: if ok { 200 } else { 503 }, retry_after_ms: None }
    }
}

/// The breaker exists only in the breaker strategy: one per client per origin, as in the SDK.
struct Client {
    rng: SplitMix64,
    schedule: Schedule,
    breaker: Option<Breaker>,
}

/// What a run sent, and when its calls succeeded: both models' tables read it.
#[derive(Default)]
struct Tally {
    capacity: u32,
    sends_per_ms: Vec<u32>,
    calls: u64,
    last_success_ms: u64,
    succeeded: usize,
    max_attempts_seen: u32,
}

impl Tally {
    fn new(capacity: u32) -> Tally {
        Tally { capacity, ..Tally::default() }
    }

    /// An attempt goes at `now`.
    fn sent(&mut self, now: u64) {
        let ms = now as usize;
        self.sends_per_ms.resize(self.sends_per_ms.len().max(ms + 1), 0);
        self.sends_per_ms[ms] += 1;
        self.calls += 1;
    }

    /// A call succeeded at `now`, after `attempts`.
    fn success(&mut self, now: u64, attempts: u32) {
        self.succeeded += 1;
        self.last_success_ms = now;
        self.max_attempts_seen = self.max_attempts_seen.max(attempts);
    }

    /// The most requests in a second from `from_ms` on, over C.
    fn peak_over_c(&self, from_ms: usize) -> f64 {
        peak_per_second(&self.sends_per_ms, from_ms) as f64 / self.capacity as f64
    }

    /// When all of `n` calls had succeeded, or how many gave up.
    fn done(&self, n: usize) -> String {
        match self.succeeded {
            s if s == n => format!("{:.1} s", self.last_success_ms as f64 / 1_000.0),
            s => format!("never ({} of {n} gave up)", n - s),
        }
    }
}

struct HerdRun {
    strategy: Strategy,
    tally: Tally,
}

fn run_herd(strategy: Strategy, capacity: u32) -> HerdRun {
    let policy = herd_policy();
    let mut server = Server::new(capacity, OUTAGE_MS, false);
    let mut seeds = SplitMix64::new(SEED);
    let mut queue = BinaryHeap::new();
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|id| {
            let mut rng = SplitMix64::new(seeds.next_u64());
            let start = rng.up_to(START_SPREAD_MS - 1);
            queue.push(Reverse((start, id)));
            let breaker = (strategy == Strategy::FullJitterBreaker).then(|| Breaker::new(BreakerConfig::default()));
            Client { rng, schedule: Schedule::new(Mono(start as f64)), breaker }
        })
        .collect();
    let mut run = HerdRun { strategy, tally: Tally::new(capacity) };

    while let Some(Reverse((now, id))) = queue.pop() {
        let client = &mut clients[id];
        let at = Mono(now as f64);
        if let Some((Admission::Rejected { retry_in_ms }, _)) = client.breaker.as_mut().map(|b| b.admit(at)) {
            // Answers are instant, so no probe is ever in flight: retry_in_ms > 0.
            queue.push(Reverse((now + retry_in_ms.max(1), id)));
            continue;
        }
        if client.schedule.begin_attempt(&policy, at).is_err() {
            continue; // gave up: shows as succeeded < CLIENTS
        }
        run.tally.sent(now);
        let outcome = server.answer(now);
        if let Some(breaker) = &mut client.breaker {
            let _transition = if outcome.status() == Some(200) { breaker.on_success() } else { breaker.on_failure(at, &mut client.rng) };
        }
        match client.schedule.after(&policy, &outcome, at, &mut client.rng) {
            Decision::Settle => run.tally.success(now, client.schedule.attempts()),
            Decision::Retry { delay_ms, .. } => {
                let exact = policy.backoff.ceiling_ms(client.schedule.attempts() - 1);
                queue.push(Reverse((now + if strategy == Strategy::NoJitter { exact } else { delay_ms }, id)));
            }
            Decision::GiveUp(_) => {}
        }
    }
    run
}

/// Most requests in any sliding 1,000 ms window that starts at or after `from_ms`.
fn peak_per_second(sends_per_ms: &[u32], from_ms: usize) -> u32 {
    let (mut window, mut peak) = (0u32, 0u32);
    for (ms, &n) in sends_per_ms.iter().enumerate().skip(from_ms) {
        window += n;
        if ms >= from_ms + 1_000 {
            window -= sends_per_ms[ms - 1_000];
        }
        peak = peak.max(window);
    }
    peak
}

/// Requests in each whole wall-clock second, for the chart.
fn per_second(sends_per_ms: &[u32]) -> Vec<u32> {
    sends_per_ms.chunks(1_000).map(|c| c.iter().sum()).collect()
}

// ---- Model 3: users with tabs ----

/// Whose breaker (or budget) a tab asks: none, its own, or its user's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Off,
    Tab,
    User,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Fleet {
    breaker: Owner,
    budget: Owner,
    /// Calls each tab makes, one a second (each must succeed).
    calls: u32,
    outage_ms: u64,
    /// The server answers half its requests with a 503 instead of being down.
    brownout: bool,
}

impl Fleet {
    fn label(self) -> &'static str {
        match (self.breaker, self.budget) {
            (Owner::Tab, Owner::Off) => "breaker per tab",
            (Owner::User, Owner::Off) => "breaker shared by the user's tabs",
            (Owner::User, Owner::User) => "breaker and budget shared by the user's tabs",
            (Owner::Off, Owner::Off) => "neither (full jitter only)",
            (Owner::Off, Owner::Tab) => "budget per tab, no breaker",
            (Owner::Off, Owner::User) => "budget shared by the user's tabs, no breaker",
            _ => "other",
        }
    }
}

struct Tab {
    rng: SplitMix64,
    schedule: Schedule,
    /// Indexes into the run's breakers and budgets: the tab's own, or its user's.
    breaker: usize,
    budget: usize,
    /// The last attempt got no answer (what its retry costs).
    no_answer: bool,
    /// Calls still to make after this one.
    left: u32,
}

struct FleetRun {
    fleet: Fleet,
    tally: Tally,
}

fn run_fleet(fleet: Fleet, capacity: u32) -> FleetRun {
    let policy = herd_policy();
    let budget_config = BudgetConfig::default();
    let mut server = Server::new(capacity, fleet.outage_ms, fleet.brownout);
    let mut seeds = SplitMix64::new(SEED ^ 0x7AB5);
    let mut queue = BinaryHeap::new();
    let owner = |o: Owner, id: usize| if o == Owner::User { id / TABS } else { id };
    let mut breakers: Vec<Breaker> = (0..USERS * TABS).map(|_| Breaker::new(BreakerConfig::default())).collect();
    let mut budgets: Vec<Budget> = (0..USERS * TABS).map(|_| Budget::new(&budget_config)).collect();
    let mut tabs: Vec<Tab> = (0..USERS * TABS)
        .map(|id| {
            let mut rng = SplitMix64::new(seeds.next_u64());
            let start = rng.up_to(START_SPREAD_MS - 1);
            queue.push(Reverse((start, id)));
            let (breaker, budget) = (owner(fleet.breaker, id), owner(fleet.budget, id));
            Tab { rng, schedule: Schedule::new(Mono(start as f64)), breaker, budget, no_answer: false, left: fleet.calls - 1 }
        })
        .collect();
    let mut run = FleetRun { fleet, tally: Tally::new(capacity) };
    while let Some(Reverse((now, id))) = queue.pop() {
        let tab = &mut tabs[id];
        let at = Mono(now as f64);
        // A retry pays the budget first (a first attempt never does), then the breaker admits it.
        let cost = if fleet.budget != Owner::Off && tab.schedule.attempts() > 0 { budget_config.cost(tab.no_answer) } else { 0 };
        let wait = if cost > 0 { budgets[tab.budget].wait_ms(&budget_config, cost, at) } else { 0 };
        if wait > 0 {
            // Jittered as the engine does (attempt.rs): [wait, 2 × wait].
            queue.push(Reverse((now + wait + tab.rng.up_to(wait), id)));
            continue;
        }
        if fleet.breaker != Owner::Off {
            if let (Admission::Rejected { retry_in_ms }, _) = breakers[tab.breaker].admit(at) {
                queue.push(Reverse((now + retry_in_ms.max(1), id)));
                continue;
            }
        }
        if tab.schedule.begin_attempt(&policy, at).is_err() {
            continue;
        }
        if cost > 0 {
            budgets[tab.budget].take(&budget_config, cost, at);
        }
        run.tally.sent(now);
        let outcome = server.answer(now);
        let ok = outcome.status() == Some(200);
        if fleet.breaker != Owner::Off {
            let _ = if ok { breakers[tab.breaker].on_success() } else { breakers[tab.breaker].on_failure(at, &mut tab.rng) };
        }
        if ok && fleet.budget != Owner::Off {
            budgets[tab.budget].deposit(&budget_config, if cost > 0 { cost } else { 1 }, at);
        }
        tab.no_answer = !matches!(outcome, Outcome::Response { .. });
        match tab.schedule.after(&policy, &outcome, at, &mut tab.rng) {
            Decision::Settle => {
                run.tally.success(now, tab.schedule.attempts());
                if tab.left > 0 {
                    // The tab's next call, a second after this one started.
                    tab.left -= 1;
                    let next = now.max(tab.schedule_start() + 1_000);
                    tab.schedule = Schedule::new(Mono(next as f64));
                    tab.no_answer = false;
                    queue.push(Reverse((next, id)));
                }
            }
            Decision::Retry { delay_ms, .. } => queue.push(Reverse((now + delay_ms, id))),
            Decision::GiveUp(_) => {}
        }
    }
    run
}

impl Tab {
    fn schedule_start(&self) -> u64 {
        self.schedule.deadline_at(&herd_policy()).0 as u64 - herd_policy().deadline_ms
    }
}

fn fleet_table(runs: &[FleetRun]) -> String {
    let tabs = USERS * TABS * runs.first().map_or(1, |r| r.fleet.calls as usize);
    let mut out = String::from(
        "| breaker and budget | C (req/s) | peak ÷ C after recovery | total calls | all succeeded at (from t = 0) | attempts per call (mean / max) |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for FleetRun { fleet, tally: t } in runs {
        let (peak, done) = (t.peak_over_c(fleet.outage_ms as usize), t.done(tabs));
        let _ = writeln!(
            out,
            "| {} | {} | {peak:.1} | {} | {done} | {:.1} / {} |",
            fleet.label(), t.capacity, t.calls, t.calls as f64 / tabs as f64, t.max_attempts_seen
        );
    }
    out
}

// ---- Model 2: the AWS OCC simulator ----

/// Only what happens at the server touches shared state; each client hop
/// (reply, next request) just adds a network delay.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AtServer {
    Read,
    Write { seen: u64 },
}

/// |Normal(10 ms, 2 ms)| in µs, by Box-Muller.
fn net_delay_us(rng: &mut SplitMix64) -> u64 {
    let unit = |r: &mut SplitMix64| ((r.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let (u1, u2) = (unit(rng), unit(rng));
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (10_000.0 + 2_000.0 * normal).abs().round() as u64
}

/// One run: (writes, time in µs until the last client has its success reply).
fn run_occ(jitter: bool, rng: &mut SplitMix64) -> (u64, u64) {
    let backoff = Backoff { base_ms: 5_000, cap_ms: 2_000_000 }; // AWS's 5 / 2000, in µs
    let (mut version, mut writes, mut end) = (0u64, 0u64, 0u64);
    let mut retries = [0u32; OCC_CLIENTS];
    let mut queue: BinaryHeap<_> =
        (0..OCC_CLIENTS).map(|id| Reverse((net_delay_us(rng), id, AtServer::Read))).collect();
    while let Some(Reverse((now, id, event))) = queue.pop() {
        let (next, wait) = match event {
            AtServer::Read => (AtServer::Write { seen: version }, 0),
            AtServer::Write { seen } if seen == version => {
                (version, writes) = (version + 1, writes + 1);
                end = end.max(now + net_delay_us(rng));
                continue;
            }
            AtServer::Write { .. } => {
                writes += 1;
                retries[id] += 1; // AWS counts from 1: the first retry waits up to 2 * base
                let n = retries[id];
                (AtServer::Read, if jitter { backoff.delay_ms(n, rng) } else { backoff.ceiling_ms(n) })
            }
        };
        queue.push(Reverse((now + net_delay_us(rng) + wait + net_delay_us(rng), id, next)));
    }
    (writes, end)
}

/// Mean (writes, completion ms) over OCC_RUNS runs.
fn occ_mean(jitter: bool) -> (f64, f64) {
    let mut rng = SplitMix64::new(SEED ^ 0xA5A5);
    let (writes, time_us) =
        (0..OCC_RUNS).map(|_| run_occ(jitter, &mut rng)).fold((0, 0), |(w, t), (dw, dt)| (w + dw, t + dt));
    (writes as f64 / OCC_RUNS as f64, time_us as f64 / 1_000.0 / OCC_RUNS as f64)
}

// ---- Output: the Markdown table and the SVG chart ----

fn herd_table(runs: &[HerdRun]) -> String {
    let mut out = String::from(
        "| strategy | C (req/s) | peak ÷ C | peak ÷ C after recovery | total calls | all succeeded at \
         (from t = 0) | calls per client (mean / max) |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for HerdRun { strategy, tally: t } in runs {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {} | {} | {:.1} / {} |",
            strategy.label(), t.capacity, t.peak_over_c(0), t.peak_over_c(OUTAGE_MS as usize),
            t.calls, t.done(CLIENTS), t.calls as f64 / CLIENTS as f64, t.max_attempts_seen,
        );
    }
    out
}

const COLORS: [&str; 3] = ["#d62728", "#1f77b4", "#2ca02c"];
const PLOT: (f64, f64, f64, f64) = (70.0, 50.0, 860.0, 520.0); // left, top, right, bottom

fn line(svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), style: &str) {
    let _ = writeln!(svg, r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" {style}/>"#);
}

fn text(svg: &mut String, (x, y): (f64, f64), attrs: &str, body: &str) {
    let _ = writeln!(svg, r#"<text x="{x:.1}" y="{y:.1}" {attrs}>{body}</text>"#);
}

/// Load per second over time. The y axis is logarithmic: the outage burst is
/// ~40x C, so on a linear axis C and the jittered load would hug zero.
fn herd_svg(runs: &[&HerdRun], capacity: u32) -> String {
    let series: Vec<Vec<u32>> = runs.iter().map(|r| per_second(&r.tally.sends_per_ms)).collect();
    let seconds = series.iter().map(Vec::len).max().unwrap_or(1) as f64;
    let x_max = (seconds / 50.0).ceil() * 50.0;
    let peak = series.iter().flatten().copied().max().unwrap_or(1).max(capacity) as f64;
    let decades = peak.log10().ceil().max(1.0) as i32;
    let (left, top, right, bottom) = PLOT;
    let x = |s: f64| left + s / x_max * (right - left);
    let y = |v: f64| bottom - v.max(1.0).log10() / decades as f64 * (bottom - top);

    let mut svg = String::from(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="900" height="600" viewBox="0 0 900 600" font-size="13"
 font-family="sans-serif"><rect width="900" height="600" fill="white"/>
"#,
    );
    let title = format!("{CLIENTS} clients, server down for {} s, then C = {capacity} req/s", OUTAGE_MS / 1_000);
    text(&mut svg, (450.0, 28.0), r#"text-anchor="middle" font-size="16" font-weight="bold""#, &title);
    draw_axes(&mut svg, &x, &y, x_max, decades);
    for (per_s, color) in series.iter().zip(COLORS) {
        // A step line: each second's count is flat across that second.
        let points: Vec<String> = (per_s.iter().enumerate())
            .map(|(s, &n)| format!("{:.1},{2:.1} {:.1},{2:.1}", x(s as f64), x(s as f64 + 1.0), y(n as f64)))
            .collect();
        let style = r#"fill="none" stroke-width="1.5" stroke-opacity="0.85""#;
        let _ = writeln!(svg, r#"<polyline points="{}" stroke="{color}" {style}/>"#, points.join(" "));
    }
    let cy = y(capacity as f64);
    line(&mut svg, (left, cy), (right, cy), r#"stroke="black" stroke-dasharray="6 4""#);
    text(&mut svg, (right - 4.0, cy - 5.0), r#"text-anchor="end""#, &format!("C = {capacity} req/s"));
    for (i, (run, color)) in runs.iter().zip(COLORS).enumerate() {
        let ly = top + 18.0 + 20.0 * i as f64;
        line(&mut svg, (right - 220.0, ly), (right - 190.0, ly), &format!(r#"stroke="{color}" stroke-width="3""#));
        text(&mut svg, (right - 182.0, ly + 4.0), "", run.strategy.label());
    }
    svg.push_str("</svg>\n");
    svg
}

/// The outage band, grid, ticks and axis labels.
fn draw_axes(svg: &mut String, x: &dyn Fn(f64) -> f64, y: &dyn Fn(f64) -> f64, x_max: f64, decades: i32) {
    let (left, top, right, bottom) = PLOT;
    let band = x(OUTAGE_MS as f64 / 1_000.0) - left;
    let _ = writeln!(svg, r##"<rect x="{left}" y="{top}" width="{band:.1}" height="{}" fill="#eee"/>"##, bottom - top);
    text(svg, (left + 3.0, top + 14.0), r##"font-size="11" fill="#666""##, "down");
    for d in 0..=decades {
        let py = y(10f64.powi(d));
        line(svg, (left, py), (right, py), r##"stroke="#ddd""##);
        let label = if d == 0 { "0-1".to_string() } else { 10u64.pow(d as u32).to_string() };
        text(svg, (left - 6.0, py + 4.0), r#"text-anchor="end""#, &label);
    }
    for s in (0..=x_max as u32).step_by(if x_max > 200.0 { 25 } else { 10 }) {
        let px = x(s as f64);
        line(svg, (px, bottom), (px, bottom + 5.0), r##"stroke="#333""##);
        text(svg, (px, bottom + 20.0), r#"text-anchor="middle""#, &s.to_string());
    }
    let _ = writeln!(svg, r##"<path d="M{left} {top}V{bottom}H{right}" fill="none" stroke="#333"/>"##);
    text(svg, ((left + right) / 2.0, bottom + 40.0), r#"text-anchor="middle""#, "time (s)");
    let mid = (top + bottom) / 2.0;
    let rotated = format!(r#"transform="rotate(-90 18 {mid})" text-anchor="middle""#);
    text(svg, (18.0, mid), &rotated, "requests per second (log scale)");
}

fn main() {
    let policy = herd_policy();
    let mut md = format!(
        "### Thundering herd: {CLIENTS} clients, server down {} s then C req/s; seed {SEED:#x}\n\n\
         Clients start uniformly over the first {START_SPREAD_MS} ms. maxAttempts {}, deadlineMs {}, \
         baseDelayMs {}, maxDelayMs {}, breaker {{ failureThreshold 5, cooldownMs 30000 }} per client. \
         Answers are instant; 1 ms clock.\n\n",
        OUTAGE_MS / 1_000, policy.max_attempts, policy.deadline_ms, policy.backoff.base_ms, policy.backoff.cap_ms
    );
    let runs: Vec<HerdRun> =
        CAPACITIES.iter().flat_map(|&c| Strategy::ALL.iter().map(move |&s| run_herd(s, c))).collect();
    md += &herd_table(&runs);

    use Owner::{Off, Tab as PerTab, User};
    let combos = [(PerTab, Off), (User, Off), (User, User), (Off, Off), (Off, PerTab), (Off, User)];
    let fleets = |calls: u32, outage_ms: u64, capacities: &[u32], brownout: bool| -> Vec<FleetRun> {
        let runs = capacities
            .iter()
            .flat_map(|&c| combos.iter().map(move |&(breaker, budget)| (c, Fleet { breaker, budget, calls, outage_ms, brownout })));
        runs.map(|(c, f)| run_fleet(f, c)).collect()
    };
    let _ = write!(
        md,
        "\n### {USERS} users × {TABS} tabs, the same outage\n\n\
         Each of the {} tabs needs one request to succeed, with full jitter. The breaker is the default one, the retry \
         budget too (500 tokens, a retry 5, 10 after no answer, paid back on success, 1 a second); a retry the budget \
         cannot pay waits until it can (a durable call's queued record). Per user: one breaker and one budget shared by \
         its tabs, heard at once (the Chromium test measures the real BroadcastChannel).\n\n{}\n\
         The same users, each tab making 10 calls, one a second (a busy page), C = 100:\n\n{}\n\
         The same busy page through a 5-minute outage, C = 100:\n\n{}\n\
         A 5-minute brownout instead: the server is up, with room for every call (C = 5,000; the tabs make 4,000 a \
         second), but answers 503 to one request in two; each tab calls once a second, 300 calls, through it:\n\n{}",
        USERS * TABS,
        fleet_table(&fleets(1, OUTAGE_MS, &CAPACITIES, false)),
        fleet_table(&fleets(10, OUTAGE_MS, &CAPACITIES[..1], false)),
        fleet_table(&fleets(10, 300_000, &CAPACITIES[..1], false)),
        fleet_table(&fleets(300, 300_000, &[5_000], true)),
    );

    let (plain_calls, plain_ms) = occ_mean(false);
    let (jitter_calls, jitter_ms) = occ_mean(true);
    let _ = write!(
        md,
        "\nAWS OCC model (aws-arch-backoff-simulator; {OCC_CLIENTS} clients, base 5, cap 2000, mean of {OCC_RUNS} \
         runs): no jitter {plain_calls:.0} writes (all done at {plain_ms:.0} ms), full jitter {jitter_calls:.0} \
         writes ({jitter_ms:.0} ms): {:.0}% fewer calls, ratio {:.2}.\n",
        (1.0 - jitter_calls / plain_calls) * 100.0,
        jitter_calls / plain_calls
    );
    print!("{md}");
    std::fs::write(MD_PATH, &md).expect("write bench/herd.md");

    let first: Vec<&HerdRun> = runs.iter().filter(|r| r.tally.capacity == CAPACITIES[0]).collect();
    let svg = herd_svg(&first, CAPACITIES[0]);
    std::fs::write(SVG_PATH, &svg).expect("write bench/herd.svg");
    println!("\nWrote {MD_PATH} and {SVG_PATH} ({} bytes).", svg.len());
}
