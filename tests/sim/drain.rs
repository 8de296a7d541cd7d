//! Background resends, as src/shell/drain.rs runs them: one loop per
//! client, one round at a time (the `drain` Web Lock), `outbox::plan` picks
//! the oldest record per origin, each resend under its key's lock after
//! re-reading the record, `outbox::after_resend` decides what follows;
//! expired records are marked expired, reported, then deleted, under their
//! key's lock.

use std::rc::Rc;

use durafetch::core::breaker::Admission;
use durafetch::core::outbox::{plan, Resend};
use durafetch::core::record::Record;

use super::client::{CallResult, Client, Live, Prepared};
use super::ledger::{Report, Sender};
use super::live::Attempt;
use super::world::Mutant;

/// src/shell/drain.rs LOCKED_RETRY_MS: when every ready record's key is
/// locked elsewhere, look again after this long.
const LOCKED_RETRY_MS: f64 = 250.0;
/// Idle rounds allowed back to back (a kick or a clock jump forward may
/// start one at once); more is a spin.
pub const MAX_IDLE_STREAK: u64 = 3;

impl Client {
    /// Starts the drain loop, or wakes it if it is running.
    pub fn kick(self: &Rc<Self>) {
        if !self.alive.get() {
            return;
        }
        if self.draining.get() {
            self.drain_again.set(true);
            for wake in self.drain_wake.take() {
                wake.fill(());
            }
            return;
        }
        self.draining.set(true);
        self.sim.exec.spawn(self.instance, self.clone().drain_loop());
    }

    pub fn force_pass(self: &Rc<Self>) {
        self.forced_done.borrow_mut().clear();
        self.drain_forced.set(true);
        self.kick();
    }

    pub fn wake_all(&self) -> usize {
        let sleepers = std::mem::take(&mut *self.sleepers.borrow_mut());
        sleepers.iter().for_each(|wake| wake.fill(()));
        sleepers.len()
    }

    /// `client.resume()`: wake every wait we chose, force a pass.
    pub fn resume(self: &Rc<Self>) {
        self.sim.ledger.borrow_mut().checks.asked_waits_at_wake += self.asked_waits.get();
        let woken = self.wake_all();
        self.sim.log(|| format!("c{} resume() woke {woken} waits", self.instance));
        self.force_pass();
    }

    /// The 'online' listener: breakers closed, then as `resume()`.
    pub fn online(self: &Rc<Self>) {
        self.close_breakers();
        self.resume();
    }

    fn may_skip_backoff(&self, key: &str) -> bool {
        self.drain_forced.get() && !self.forced_done.borrow().contains(key)
    }

    async fn drain_loop(self: Rc<Self>) {
        loop {
            self.drain_again.set(false);
            let wake_at = self.drain_round().await;
            if self.drain_again.get() {
                continue;
            }
            let Some(at) = wake_at else { break };
            let delay = (at - self.now_ms()).max(0.0).ceil() as u64;
            if delay > 0 {
                self.sleep(delay, None, &self.drain_wake).await;
            }
        }
        self.draining.set(false);
    }

    async fn drain_round(self: &Rc<Self>) -> Option<f64> {
        let started = self.sim.exec.now();
        let _round = self.acquire("drain", true, "drain:round-locked").await;
        let values = self.store_list("drain:listed").await;
        let records: Vec<Record> = values.iter().filter_map(|v| Record::decode(v).ok()).collect();
        if records.len() != values.len() {
            self.sim.ledger.borrow_mut().violations.push("a record the client wrote does not decode".into());
        }
        let now = self.now_ms();
        let ttl = self.sim.cfg.ttl_ms;
        let busy = |k: &str| self.live.borrow().contains_key(k);
        let in_flight_past_ttl = records.iter().filter(|r| busy(&r.key) && now >= r.created_at + ttl as f64).count();
        self.sim.ledger.borrow_mut().checks.in_flight_past_ttl += in_flight_past_ttl as u64;
        let marked = records.iter().filter(|r| r.expired_at != 0.0 && now < r.created_at + ttl as f64).count();
        self.sim.ledger.borrow_mut().checks.marked_expired_before_ttl += marked as u64;
        let round = plan(&records, now, ttl, |k| self.may_skip_backoff(k), busy);
        let mut expiry_waits = false;
        for key in &round.expired {
            expiry_waits |= !self.expire(key).await;
        }
        if round.ready.is_empty() {
            // An expiry another context holds the key of is looked at again.
            self.drain_forced.set(false);
            let retry = self.now_ms() + LOCKED_RETRY_MS;
            return if expiry_waits { Some(round.wake_at_ms.map_or(retry, |w| w.min(retry))) } else { round.wake_at_ms };
        }
        let mut progressed = false;
        for key in &round.ready {
            let forced = self.may_skip_backoff(key);
            let listed = records.iter().find(|r| &r.key == key).cloned();
            if self.resend(key, forced, listed).await {
                progressed = true;
                if forced {
                    self.forced_done.borrow_mut().insert(key.clone());
                }
            }
        }
        self.count_idle_round(started, progressed, &round.ready);
        if progressed {
            Some(self.now_ms())
        } else {
            let retry = self.now_ms() + LOCKED_RETRY_MS;
            Some(round.wake_at_ms.map_or(retry, |w| w.min(retry)))
        }
    }

    /// Check only: rounds that resent nothing (every ready key locked
    /// elsewhere) must be followed by a wait, not by another round at once.
    fn count_idle_round(&self, started: u64, progressed: bool, ready: &[String]) {
        if progressed {
            self.idle_streak.set(0);
            self.last_idle_end.set(None);
            return;
        }
        let back_to_back = self.last_idle_end.get() == Some(started);
        let streak = if back_to_back { self.idle_streak.get() + 1 } else { 1 };
        self.idle_streak.set(streak);
        self.last_idle_end.set(Some(self.sim.exec.now()));
        let mut ledger = self.sim.ledger.borrow_mut();
        let c = &mut ledger.checks;
        c.idle_rounds += 1;
        c.longest_idle_streak = c.longest_idle_streak.max(streak);
        if streak == MAX_IDLE_STREAK + 1 {
            let what = format!(
                "spin: client {} ran {streak} drain rounds back to back by t={} ms, each skipping {ready:?} whose lock another context holds",
                self.instance,
                self.sim.exec.now()
            );
            ledger.checks.long_idle_streaks += 1;
            ledger.violations.push(what);
        }
    }

    /// src/shell/drain.rs `expire`: under the key's lock, after a re-read;
    /// the decision written into the record, then reported, then the record
    /// deleted (a crash anywhere between reports it again, never revives
    /// it). False when another context holds the key.
    async fn expire(&self, key: &str) -> bool {
        let Some(_lock) = self.acquire(key, false, "expire:locked").await else {
            self.sim.ledger.borrow_mut().checks.expiries_left_to_holder += 1;
            return false;
        };
        let ttl = self.sim.cfg.ttl_ms as f64;
        let mut record = match self.store_get(key, "expire:reread").await.map(|v| Record::decode(&v)) {
            Some(Ok(r)) if r.expired_at != 0.0 || r.created_at + ttl <= self.now_ms() => r,
            _ => return true,
        };
        if record.expired_at == 0.0 {
            record.expired_at = self.now_ms();
            self.store_put(&record, "expire:marked").await;
        }
        self.check_no_sender(key);
        self.report(key, Report::Expired);
        // The tab may die before the delete commits.
        self.step("expire:reported").await;
        self.store_delete(key, false, "expire:deleted").await;
        true
    }

    /// Check only: no attempt of a record we expire is in flight (with Web
    /// Locks; without them, only this process's own can be ruled out).
    fn check_no_sender(&self, key: &str) {
        let senders = self.sim.in_flight.senders(key);
        if senders.iter().any(|&i| self.sim.cfg.web_locks || i == self.instance) {
            let mut ledger = self.sim.ledger.borrow_mut();
            ledger.checks.expired_under_sender += 1;
            let at = self.sim.exec.now();
            let what = format!("expired under its sender: client {} expired {key} at t={at} ms while {senders:?} sent it", self.instance);
            ledger.violations.push(what);
        }
    }

    /// One attempt of one stored operation. False when its key is locked
    /// (being sent elsewhere); true when it was dealt with.
    async fn resend(self: &Rc<Self>, key: &str, forced: bool, listed: Option<Record>) -> bool {
        let Some(_lock) = self.acquire(key, false, "resend:locked").await else {
            return false;
        };
        // Fresh, under the lock: another sender may have moved it on.
        let fresh = self.store_get(key, "resend:reread").await.map(|v| Record::decode(&v));
        let fresh = if self.sim.cfg.mutant == Mutant::NoRereadUnderLock { listed.map(Ok) } else { fresh };
        let record = match fresh {
            Some(Ok(r)) => r,
            _ => return true,
        };
        let due_at = if forced { record.not_before } else { record.next_attempt_at.max(record.not_before) };
        if due_at > self.now_ms() || self.live.borrow().contains_key(key) {
            return true;
        }
        let origin = Client::origin(&record.url);
        let admission = self.admit(&origin);
        if let Admission::Rejected { retry_in_ms } = admission {
            let mut r = record;
            r.next_attempt_at = self.now_ms() + retry_in_ms.max(1) as f64;
            self.store_put(&r, "resend:breaker-persisted").await;
            return true;
        }
        let live = Live { fingerprint: record.fingerprint.clone(), joiners: Vec::new() };
        self.live.borrow_mut().insert(key.to_string(), live);
        let result = self.resend_attempt(record, admission).await;
        self.end_live(key, &result);
        true
    }

    async fn resend_attempt(self: &Rc<Self>, mut record: Record, admission: Admission) -> CallResult {
        let key = record.key.clone();
        let origin = Client::origin(&record.url);
        let attempt = record.attempts + 1;
        let op = Prepared {
            op: self.sim.ledger.borrow().key_op.get(&key).copied().unwrap_or(usize::MAX),
            call: 0,
            url: record.url.clone(),
            body: record.body.clone().unwrap_or_default(),
            fingerprint: record.fingerprint.clone(),
            key: key.clone(),
            signal: super::client::Abort::new(),
            resubmission: false,
        };
        let timeout = self.sim.cfg.policy.attempt_timeout_ms;
        let sender = Sender::Resend { not_before: record.not_before };
        let outcome = match self.send(&op, timeout, None, sender, ("resend:in-flight", "resend:answered")).await {
            Attempt::Aborted => {
                if admission == Admission::Probe {
                    self.record_breaker(&origin, None);
                }
                return CallResult::Failed("closed");
            }
            Attempt::Done(outcome) => outcome,
        };
        self.record_breaker(&origin, Some(&outcome));
        record.attempts = attempt;
        match self.after_resend_checked(&key, attempt, &outcome) {
            Resend::Settle => {
                let status = outcome.status().unwrap_or(0);
                self.settle(&key, status, ("resend:settled-reported", "resend:settled-deleted")).await;
                CallResult::Status(status)
            }
            Resend::RetryAt { next_attempt_at, not_before, .. } => {
                record.next_attempt_at = next_attempt_at;
                record.not_before = not_before;
                self.store_put(&record, "resend:retry-persisted").await;
                CallResult::Failed("queued")
            }
        }
    }
}
