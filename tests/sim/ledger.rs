//! What happened to each operation, checked as it happens: every attempt,
//! every wait, every report the caller or a listener got.

use std::collections::{BTreeMap, BTreeSet};

use durafetch::core::backoff::Backoff;
use durafetch::core::contract::ErrorKind;

use super::host::CallResult;

pub use super::checks::Checks;

/// Faults injected, by kind.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Crashes at a named await of the protocol (`where:what`).
    pub crashes: BTreeMap<&'static str, u64>,
    pub random_crashes: u64,
    pub requests_dropped: u64,
    pub responses_dropped: u64,
    /// Of those: the server had applied the operation.
    pub applied_but_unanswered: u64,
    pub duplicated: u64,
    pub status_5xx: u64,
    pub status_429: u64,
    /// 202 + Retry-After, not applied, with 202 in `retryOn`.
    pub accepted_later: u64,
    pub status_409: u64,
    pub partitions: u64,
    pub offline_refusals: u64,
    pub jumps_forward: u64,
    pub jumps_backward: u64,
    pub aborts: u64,
    pub resubmissions: u64,
    pub resumes: u64,
    pub closes: u64,
    /// Partitions the device knew about ('offline', then 'online').
    pub device_offline: u64,
    pub replay_failures: u64,
    pub store_failures: u64,
    pub store_errors_reported: u64,
    pub corrupt_records: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// The caller's promise resolved with a Response of this status.
    Status(u16),
    /// The 'settled' event (live or resumed): at least once per operation.
    Settled(u16),
    /// `result(key)` resolved with a kept answer of this status.
    Read(u16),
    Expired,
    Aborted,
}

impl Report {
    /// The status a definitive answer was reported with, by either channel.
    pub fn status(self) -> Option<u16> {
        match self {
            Report::Status(s) | Report::Settled(s) | Report::Read(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Default)]
pub struct OpLog {
    pub invalid: bool,
    /// Its call went through the store (false: `durable: false`, live only).
    pub durable: bool,
    /// The application asked for `durable: false`.
    pub asked_non_durable: bool,
    /// The call's result, when it ended with a kind.
    pub failed: Option<durafetch::core::contract::ErrorKind>,
    pub explicit_key: Option<String>,
    pub keys_sent: BTreeSet<String>,
    pub attempts: u32,
    /// A record for it was written: the client accepted it.
    pub persisted: bool,
    pub reports: Vec<Report>,
    /// Virtual time its record was deleted after a definitive answer.
    pub settled_at: Option<u64>,
    pub abort_requested: bool,
    pub abort_reported: bool,
    /// The delete of its record after the abort failed (a store error was
    /// reported): it may still be resent.
    pub abort_delete_failed: bool,
    /// The application called fetch again with the same key (after a crash).
    pub resubmitted: bool,
    /// The client instance whose caller awaits this operation's result.
    pub waiting_in: Option<u64>,
    /// Reported 'settled', the delete that follows not committed yet (a
    /// crash there leaves the record stored).
    pub settled_undeleted: bool,
    /// Its kept answer was removed unread, past ttlMs after it settled.
    pub kept_expired: bool,
    /// When the last `result(key)` read that got its kept answer was asked
    /// and answered; when that answer was last kept, or its delete after a
    /// read failed (then a later read may get it again).
    pub read_at: Option<(u64, u64)>,
    pub kept_again_at: Option<u64>,
    /// The spans the host started for its attempts (trace contexts), and
    /// the one its resends link to, once one did (this life of its record).
    pub spans: Vec<String>,
    pub linked: Option<String>,
}

pub struct Ledger {
    web_locks: bool,
    /// Workflow runs, by index (tests/sim/workflows.rs).
    pub runs: Vec<super::workflows::RunLog>,
    /// Unreadable values put into the store (never sent, quarantined), and
    /// those a client reported quarantined.
    pub corrupt_keys: BTreeSet<String>,
    pub quarantined_keys: BTreeSet<String>,
    pub ops: Vec<OpLog>,
    pub key_op: BTreeMap<String, usize>,
    pub faults: Faults,
    pub violations: Vec<String>,
    pub checks: Checks,
    pub live_attempts: u64,
    pub resend_attempts: u64,
    pub waits_checked: u64,
    next_span: u64,
    /// Resends that linked to an earlier attempt's span.
    pub resend_links: u64,
}

/// Who sends an attempt, for the checks.
pub enum Sender {
    Live { call: u64, attempt: u32, started: u64, floor: u64, resubmission: bool, aborted: bool, durable: bool },
    Resend { not_before: f64 },
}

/// The state of the world when an attempt leaves.
pub struct AttemptAt {
    pub mono: u64,
    pub wall: f64,
    pub web_locks: bool,
    pub record_stored: bool,
    pub max_attempts: u32,
    pub deadline_ms: u64,
    pub timeout_ms: u64,
    pub attempt_timeout_ms: u64,
}

impl Ledger {
    pub fn new(ops: usize, runs: usize, web_locks: bool) -> Ledger {
        let steps = super::workflows::STEPS as usize;
        let run = super::workflows::RunLog { executions: vec![0; steps], ..Default::default() };
        Ledger {
            web_locks,
            runs: vec![run; runs],
            corrupt_keys: BTreeSet::new(),
            quarantined_keys: BTreeSet::new(),
            ops: (0..ops + runs * steps).map(|_| OpLog::default()).collect(),
            key_op: BTreeMap::new(),
            faults: Faults::default(),
            violations: Vec::new(),
            checks: Checks::default(),
            live_attempts: 0,
            resend_attempts: 0,
            waits_checked: 0,
            next_span: 0,
            resend_links: 0,
        }
    }

    pub fn is_invalid(&self, op: usize) -> bool {
        self.ops.get(op).is_some_and(|o| o.invalid)
    }

    fn violation(&mut self, what: String) {
        self.violations.push(what);
    }

    /// A key the client chose for an operation: never shared by two.
    pub fn key_assigned(&mut self, key: &str, op: usize) {
        let previous = *self.key_op.entry(key.to_string()).or_insert(op);
        if previous != op {
            self.violation(format!("key {key} given to op {previous} and op {op}"));
        }
    }

    pub fn on_attempt(&mut self, op: usize, key: &str, sender: &Sender, at: &AttemptAt) {
        let log = &mut self.ops[op];
        log.attempts += 1;
        log.keys_sent.insert(key.to_string());
        let (settled_at, abort_reported, resubmitted) = (log.settled_at, log.abort_reported && !log.abort_delete_failed, log.resubmitted);
        let expired = log.reports.contains(&Report::Expired);
        if self.key_op.get(key) != Some(&op) {
            self.violation(format!("op {op} sent with key {key}, which is not its key"));
        }
        if self.ops[op].keys_sent.len() > 1 {
            self.violation(format!("op {op} sent with two keys: {:?}", self.ops[op].keys_sent));
        }
        let resubmission = matches!(sender, Sender::Live { resubmission: true, .. });
        let durable = !matches!(sender, Sender::Live { durable: false, .. });
        if at.web_locks && !resubmission && durable {
            if let Some(t) = settled_at {
                self.violation(format!("op {op} ({key}) sent at {} after it settled at {t}", at.mono));
            }
            if abort_reported {
                self.violation(format!("op {op} ({key}) sent at {} after its abort was reported", at.mono));
            }
            if !at.record_stored {
                self.violation(format!("op {op} ({key}) sent at {} without a stored record", at.mono));
            }
            if expired && !resubmitted {
                self.violation(format!("op {op} ({key}) sent at {} after it was reported expired", at.mono));
            }
        }
        if at.timeout_ms > at.attempt_timeout_ms {
            self.violation(format!("op {op}: an attempt may take {} ms > attemptTimeoutMs", at.timeout_ms));
        }
        match *sender {
            Sender::Live { call, attempt, started, floor, aborted, .. } => {
                self.live_attempts += 1;
                if aborted {
                    self.violation(format!("op {op} call {call}: attempt {attempt} at {} after the caller aborted", at.mono));
                }
                if attempt > at.max_attempts {
                    self.violation(format!("op {op} call {call}: attempt {attempt} > maxAttempts {}", at.max_attempts));
                }
                // Deadlines run on the monotonic clock: wall-clock jumps move them not at all.
                if at.mono - started >= at.deadline_ms {
                    self.violation(format!(
                        "op {op} call {call}: attempt {attempt} at {} after the live deadline (started {started}, deadline {} ms)",
                        at.mono, at.deadline_ms
                    ));
                }
                if at.mono + at.timeout_ms > started + at.deadline_ms {
                    self.violation(format!("op {op} call {call}: attempt {attempt} may outlive the live deadline"));
                }
                if at.mono < floor {
                    self.checks.retry_after_cut_short += 1;
                    self.violation(format!(
                        "retry-after cut short: op {op} ({key}) call {call}: attempt {attempt} at t={} ms, but the server's Retry-After asked for t>={floor}",
                        at.mono
                    ));
                }
            }
            Sender::Resend { not_before } => {
                self.resend_attempts += 1;
                if at.wall < not_before {
                    self.violation(format!("op {op} ({key}) resent at wall {} before notBefore {not_before}", at.wall));
                }
            }
        }
    }

    /// A wait chosen after a transient outcome: full jitter within
    /// [0, min(cap, base * 2^n)], or exactly what the server asked.
    pub fn on_wait(&mut self, op: usize, n: u32, delay_ms: u64, asked: Option<u64>, backoff: Backoff) {
        self.waits_checked += 1;
        match asked {
            Some(ms) if ms != delay_ms => self.violation(format!("op {op}: waits {delay_ms} ms, the server asked {ms}")),
            Some(_) => {}
            None => {
                let grown = if n >= 64 { u64::MAX } else { backoff.base_ms.saturating_mul(1 << n) };
                let bound = grown.min(backoff.cap_ms);
                if delay_ms > bound {
                    self.violation(format!("op {op}: wait {delay_ms} ms before retry {n} exceeds {bound} ms"));
                }
            }
        }
    }

    /// A span for an attempt of `op`: its trace id names the operation.
    pub fn new_span(&mut self, op: usize) -> String {
        self.next_span += 1;
        let span = format!("00-{:032x}-{:016x}-01", op + 1, self.next_span);
        if let Some(log) = self.ops.get_mut(op) {
            log.spans.push(span.clone());
        }
        span
    }

    /// A resend of `op` links to the span its record keeps: one of its own
    /// earlier attempts', and (with Web Locks: one sender at a time) always
    /// the same one.
    pub fn on_link(&mut self, op: usize, trace: Option<&str>) {
        let Some(trace) = trace else { return };
        let web_locks = self.web_locks;
        let log = &mut self.ops[op];
        let what = if !log.spans.iter().any(|s| s == trace) {
            Some(format!("op {op}: a resend links to span {trace}, which no attempt of it had"))
        } else {
            match log.linked.replace(trace.to_string()) {
                Some(before) if before != trace && web_locks => {
                    Some(format!("op {op}: a resend links to span {trace}, an earlier one to {before}"))
                }
                _ => None,
            }
        };
        self.resend_links += 1;
        if let Some(what) = what {
            self.violation(what);
        }
    }

    pub fn record_written(&mut self, key: &str) {
        if let Some(&op) = self.key_op.get(key) {
            self.ops[op].persisted = true;
        }
    }

    pub fn settled(&mut self, key: &str, now: u64) {
        if let Some(&op) = self.key_op.get(key) {
            self.ops[op].settled_at = Some(now);
            self.ops[op].settled_undeleted = false;
        }
    }

    /// A kept answer was written (or one read failed to go): a later read may get it.
    pub fn kept(&mut self, key: &str, now: u64) {
        if let Some(&op) = self.key_op.get(key) {
            self.ops[op].kept_again_at = Some(now);
        }
    }

    /// `result(key)` for op `op`, asked at `asked_at`, answered now. Its
    /// status is checked against the server's answer with the others
    /// (report.rs); a kept answer is read once: a read asked after another
    /// got it finds nothing, unless it was kept again since.
    pub fn result_read(&mut self, op: usize, asked_at: u64, now: u64, result: Option<CallResult>) {
        let log = &mut self.ops[op];
        let after_a_read = log.read_at.filter(|&(_, first)| asked_at > first);
        self.checks.results_after_a_read += after_a_read.is_some() as u64;
        match result {
            Some(CallResult::Status(status)) => {
                self.checks.results_read += 1;
                log.reports.push(Report::Read(status));
                if let Some((first_asked, first)) = after_a_read {
                    self.checks.results_read_again += 1;
                    if log.kept_again_at.map_or(true, |kept| kept < first_asked) {
                        let what = format!("read twice: op {op}'s kept answer went to a read at t={first} ms and again to one asked at t={asked_at} ms");
                        self.violation(what);
                    }
                }
                self.ops[op].read_at = Some((asked_at, now));
            }
            None => self.checks.results_null += 1,
            // The client closed, or the store failed the read.
            Some(CallResult::Failed(ErrorKind::Closed | ErrorKind::Storage)) => {}
            Some(other) => self.violation(format!("op {op}: result(key) ended with {other:?}")),
        }
    }

    /// An event a listener got, or the caller's result. 'expired' may come
    /// again (reported before the delete), and so may 'settled', with the
    /// same status (the server replays it); never both for one life (but
    /// for known bug 6, counted apart).
    pub fn report(&mut self, key: &str, report: Report, now: u64) {
        let Some(&op) = self.key_op.get(key) else {
            return self.violation(format!("a report for unknown key {key}"));
        };
        let log = &mut self.ops[op];
        let both = |reports: &[Report]| reports.contains(&Report::Expired) && reports.iter().any(|r| r.status().is_some());
        let repeated = matches!(report, Report::Expired | Report::Settled(_)) && log.reports.contains(&report);
        let other_settled = log.reports.iter().find(|r| matches!(r, Report::Settled(_)) && **r != report).copied();
        let was_both = both(&log.reports);
        let left_by_settle = log.settled_undeleted;
        log.settled_undeleted |= matches!(report, Report::Settled(_));
        log.reports.push(report);
        log.abort_reported |= report == Report::Aborted;
        let now_both = !was_both && both(&log.reports);
        let resubmitted = log.resubmitted;
        if let (Report::Settled(status), Some(other)) = (report, other_settled) {
            self.violation(format!("settled twice, differently: op {op} ({key}) reported {other:?}, then {status} at t={now} ms"));
        }
        let checks = &mut self.checks;
        match report {
            Report::Expired => checks.repeated_expired += repeated as u64,
            Report::Settled(_) => {
                checks.repeated_settled += repeated as u64;
                // With Web Locks, only a crash leaves an earlier report's delete undone.
                checks.repeated_settled_after_crash += (repeated && left_by_settle && self.web_locks) as u64;
            }
            _ => {}
        }
        match (now_both, resubmitted, self.web_locks) {
            (false, ..) => {}
            (true, true, _) => checks.expired_and_settled_resubmitted += 1,
            (true, false, false) => checks.expired_and_settled_without_locks += 1,
            (true, false, true) if left_by_settle && report == Report::Expired => {
                checks.expired_after_settled += 1;
                checks.expired_after_settled_example.get_or_insert(format!(
                    "op {op} ({key}) reported 'expired' at t={now} ms after 'settled': a crash between that report and its delete left the record, and its TTL passed before anyone resent it: {:?}",
                    self.ops[op].reports
                ));
            }
            (true, false, true) => {
                let what = format!("expired and settled: op {op} ({key}) was reported both by t={now} ms: {:?}", self.ops[op].reports);
                self.checks.expired_and_settled += 1;
                self.violation(what);
            }
        }
    }
}
