//! The simulated world of one seed: its configuration, the wall clock that
//! jumps, the shared store, Web Locks, the server, and the ledger.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use durafetch::core::breaker::BreakerConfig;
use durafetch::core::budget::BudgetConfig;
use durafetch::core::engine::Mutant;
use durafetch::core::rng::SplitMix64;
use durafetch::core::schedule::RetryPolicy;
use super::stored::StoredValue;

use super::checks::InFlight;
use super::fleet::FleetCheck;
use super::exec::Exec;
use super::host::Host;
use super::ledger::Ledger;
use super::net::Server;
use super::store::WebLocks;

/// Wall-clock time at virtual time 0 (Nov 2023).
pub const EPOCH_MS: f64 = 1_700_000_000_000.0;

pub trait Draw {
    fn unit(&mut self) -> f64;
    fn range(&mut self, lo: u64, hi: u64) -> u64;
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

impl Draw for SplitMix64 {
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.up_to(hi.saturating_sub(lo))
    }
}

/// Everything a seed decides up front: the client's options and how hostile
/// the world is.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub ops: usize,
    pub clients: usize,
    /// Tabs share Web Locks; false: processes sharing an adapter store (Node).
    pub web_locks: bool,
    pub policy: RetryPolicy,
    pub breaker: Option<BreakerConfig>,
    /// Small, so that it binds: a few retries' worth, refilled slowly.
    pub budget: Option<BudgetConfig>,
    pub ttl_ms: u64,
    pub p_drop_request: f64,
    pub p_drop_response: f64,
    pub p_5xx: f64,
    pub p_429: f64,
    pub p_duplicate: f64,
    pub p_slow: f64,
    /// Per crash point (every await of the protocol).
    pub p_crash_step: f64,
    /// Mean gaps between world events (0: none).
    pub crash_every_ms: u64,
    pub jump_every_ms: u64,
    pub partition_every_ms: u64,
    pub resume_every_ms: u64,
    pub p_abort: f64,
    pub p_invalid: f64,
    pub p_explicit_key: f64,
    /// Calls made with `durable: false` (no record: live attempts only).
    pub p_non_durable: f64,
    /// Per store call: it fails (quota, a broken adapter).
    pub p_store_fail: f64,
    /// Per resend: `beforeReplay` throws.
    pub p_replay_fail: f64,
    /// Unreadable values put into the store by something else.
    pub corrupt_records: u64,
    /// The store can move unreadable values aside (IndexedDB), or not (an adapter).
    pub quarantine_moves: bool,
    /// Mean gap between `close()` calls (a page navigating away), 0: none.
    pub close_every_ms: u64,
    /// Of the partitions, the share the device knows about (navigator.onLine).
    pub p_device_offline: f64,
    /// A crash probability for one named await instead of `p_crash_step`
    /// (tests that aim at one window).
    pub focus_crash: Option<(&'static str, f64)>,
    pub mutant: Mutant,
    /// Workflow runs the application starts (tests/sim/workflows.rs).
    pub runs: usize,
    /// The server answers 202 with a Retry-After without applying (a job
    /// still running), and the client's `retryOn` includes 202.
    pub p_accepted_later: f64,
    pub drains: DrainConfig,
}

/// `drain()` calls, pages shown and Background Sync (tests/sim/drains.rs).
#[derive(Clone, Debug, Default)]
pub struct DrainConfig {
    /// Mean gaps between `drain()` calls and between pages shown (0: none).
    pub drain_every_ms: u64,
    pub visible_every_ms: u64,
    /// Of the sync events' drains, those on their last chance.
    pub p_last_chance: f64,
    /// A client drains as soon as it is made, as a service worker does.
    pub p_drain_at_start: f64,
    /// The platform has the Background Sync API, and registering its tag works.
    pub sync_api: bool,
    pub sync_registers: bool,
}

impl DrainConfig {
    /// Drawn from a stream of their own: the rest of a seed's
    /// configuration is what it was before these existed.
    pub fn for_seed(seed: u64) -> DrainConfig {
        let mut r = SplitMix64::new(seed ^ 0xD4A1_5EED_0000_0018);
        let mut gap = |on: f64, lo: u64, hi: u64| if r.chance(on) { r.range(lo, hi) } else { 0 };
        let (drain_every_ms, visible_every_ms) = (gap(0.5, 2_000, 30_000), gap(0.3, 3_000, 30_000));
        DrainConfig {
            drain_every_ms,
            visible_every_ms,
            p_last_chance: 0.2,
            p_drain_at_start: [0.0, 0.5][r.range(0, 1) as usize],
            sync_api: r.chance(0.5),
            sync_registers: r.chance(0.7),
        }
    }
}

impl Config {
    pub fn for_seed(seed: u64, ops: usize) -> Config {
        let mut r = SplitMix64::new(seed ^ 0x5EED_C0F1_6000_0007);
        let base_ms = r.range(5, 400);
        let breaker = (!r.chance(0.3)).then(|| BreakerConfig {
            failure_threshold: r.range(1, 6) as u32,
            cooldown_ms: r.range(100, 30_000),
        });
        let mut gap = |on: f64, lo: u64, hi: u64| if r.chance(on) { r.range(lo, hi) } else { 0 };
        let (crash_every_ms, jump_every_ms) = (gap(0.5, 2_000, 40_000), gap(0.6, 3_000, 40_000));
        let (partition_every_ms, resume_every_ms) = (gap(0.5, 5_000, 60_000), gap(0.4, 3_000, 30_000));
        let close_every_ms = gap(0.3, 5_000, 60_000);
        let clients = if r.chance(0.7) { 2 } else { 1 };
        let mut cfg = Config {
            seed,
            ops,
            clients,
            web_locks: clients == 1 || r.chance(0.8),
            policy: RetryPolicy {
                max_attempts: r.range(1, 6) as u32,
                backoff: durafetch::core::backoff::Backoff { base_ms, cap_ms: r.range(base_ms, 20_000) },
                deadline_ms: r.range(100, 30_000),
                attempt_timeout_ms: r.range(50, 3_000),
                ..RetryPolicy::default()
            },
            breaker,
            ttl_ms: [300_000, 3_600_000, 86_400_000][r.range(0, 2) as usize],
            p_drop_request: r.unit() * 0.2,
            p_drop_response: r.unit() * 0.2,
            p_5xx: r.unit() * 0.2,
            p_429: r.unit() * 0.1,
            p_duplicate: r.unit() * 0.1,
            p_slow: r.unit() * 0.1,
            p_crash_step: [0.0, 0.003, 0.01, 0.03][r.range(0, 3) as usize],
            crash_every_ms,
            jump_every_ms,
            partition_every_ms,
            resume_every_ms,
            p_abort: 0.05,
            p_invalid: 0.1,
            p_explicit_key: 0.3,
            p_non_durable: [0.0, 0.1, 0.3][r.range(0, 2) as usize],
            p_store_fail: [0.0, 0.0, 0.01, 0.03][r.range(0, 3) as usize],
            p_replay_fail: [0.0, 0.05][r.range(0, 1) as usize],
            corrupt_records: if r.chance(0.2) { r.range(1, 3) } else { 0 },
            quarantine_moves: r.chance(0.5),
            close_every_ms,
            p_device_offline: 0.5,
            focus_crash: None,
            mutant: Mutant::None,
            runs: if r.chance(0.6) { r.range(1, 3) as usize } else { 0 },
            // Drawn last, so every earlier field is what it was for a seed.
            p_accepted_later: if r.chance(0.3) { r.unit() * 0.1 } else { 0.0 },
            drains: DrainConfig::for_seed(seed),
            // Drawn after every other field, for the same reason.
            budget: (!r.chance(0.3)).then(|| BudgetConfig {
                capacity: r.range(10, 60) as u32,
                refill_per_sec: r.range(1, 5) as u32,
                ..BudgetConfig::default()
            }),
        };
        if cfg.p_accepted_later > 0.0 {
            cfg.policy.retry_on.insert(202);
        }
        cfg
    }
}

pub struct Sim {
    pub exec: Exec,
    pub cfg: Config,
    pub rng: RefCell<SplitMix64>,
    /// Wall clock minus virtual time, in ms: moved by clock jumps.
    offset: Cell<i64>,
    /// The network has healed: no more faults of any kind.
    pub healed: Cell<bool>,
    /// Requests fail (a partition).
    pub network_down: Cell<bool>,
    /// The device knows it (navigator.onLine is false; clients were told).
    pub device_offline: Cell<bool>,
    pub store: RefCell<BTreeMap<String, StoredValue>>,
    /// Values the store moved aside as unreadable.
    pub quarantine: RefCell<Vec<StoredValue>>,
    pub locks: RefCell<WebLocks>,
    pub server: RefCell<Server>,
    pub ledger: RefCell<Ledger>,
    /// Check only: attempts on the wire, by key and client.
    pub in_flight: InFlight,
    /// Check only: the fleet rules (breaker and budget across tabs).
    pub fleet: RefCell<FleetCheck>,
    pub clients: RefCell<Vec<Option<Rc<Host>>>>,
    /// Closed clients whose last calls are still ending.
    pub closing: RefCell<Vec<Rc<Host>>>,
    pub next_instance: Cell<u64>,
    pub trace: Option<RefCell<Vec<String>>>,
}

impl Sim {
    pub fn new(cfg: Config, trace: bool) -> Rc<Sim> {
        Rc::new(Sim {
            exec: Exec::default(),
            rng: RefCell::new(SplitMix64::new(cfg.seed)),
            offset: Cell::new(0),
            healed: Cell::new(false),
            network_down: Cell::new(false),
            device_offline: Cell::new(false),
            store: RefCell::new(BTreeMap::new()),
            quarantine: RefCell::new(Vec::new()),
            locks: RefCell::new(WebLocks::default()),
            server: RefCell::new(Server::default()),
            ledger: RefCell::new(Ledger::new(cfg.ops, cfg.runs, cfg.web_locks)),
            in_flight: InFlight::default(),
            fleet: RefCell::new(FleetCheck::new(cfg.web_locks, cfg.budget, cfg.breaker.map(|b| b.cooldown_ms))),
            clients: RefCell::new(vec![None; cfg.clients]),
            closing: RefCell::new(Vec::new()),
            next_instance: Cell::new(1),
            trace: trace.then(|| RefCell::new(Vec::new())),
            cfg,
        })
    }

    /// `Date.now()` of every client (one machine, one wall clock).
    pub fn now_ms(&self) -> f64 {
        EPOCH_MS + self.exec.now() as f64 + self.offset.get() as f64
    }

    pub fn jump_clock(&self, by_ms: i64) {
        self.offset.set(self.offset.get() + by_ms);
    }



    pub fn draw(&self, lo: u64, hi: u64) -> u64 {
        self.rng.borrow_mut().range(lo, hi)
    }

    /// A fault with probability `p`, never after the network healed.
    pub fn fault(&self, p: f64) -> bool {
        !self.healed.get() && self.rng.borrow_mut().chance(p)
    }

    pub fn log(&self, line: impl FnOnce() -> String) {
        if let Some(t) = &self.trace {
            t.borrow_mut().push(format!("{:>8} {}", self.exec.now(), line()));
        }
    }

    pub fn client(&self, slot: usize) -> Option<Rc<Host>> {
        self.clients.borrow()[slot].clone().filter(|c| c.alive.get())
    }

    pub fn alive_clients(&self) -> Vec<Rc<Host>> {
        (0..self.cfg.clients).filter_map(|s| self.client(s)).collect()
    }

    pub fn teardown(&self) {
        self.clients.borrow_mut().clear();
        self.closing.borrow_mut().clear();
        self.exec.clear();
    }
}
