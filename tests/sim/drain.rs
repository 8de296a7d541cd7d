//! Background resends, as src/shell/drain.rs runs them: one loop per
//! client, one round at a time (the `drain` Web Lock), `outbox::plan` picks
//! the oldest record per origin, each resend under its key's lock after
//! re-reading the record, `outbox::after_resend` decides what follows.

use std::rc::Rc;

use durafetch::core::breaker::Admission;
use durafetch::core::outbox::{plan, Resend};
use durafetch::core::record::Record;

use super::client::{CallResult, Client, Live, Prepared};
use super::ledger::{Report, Sender};
use super::live::Attempt;
use super::world::Mutant;

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

    /// `client.resume()`, and the 'online' listener: wake every wait, force a pass.
    pub fn resume(self: &Rc<Self>) {
        let woken = self.wake_all();
        self.sim.log(|| format!("c{} resume() woke {woken} waits", self.instance));
        self.force_pass();
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
        let _round = self.acquire("drain", true, "drain:round-locked").await;
        let values = self.store_list("drain:listed").await;
        let records: Vec<Record> = values.iter().filter_map(|v| Record::decode(v).ok()).collect();
        if records.len() != values.len() {
            self.sim.ledger.borrow_mut().violations.push("a record the client wrote does not decode".into());
        }
        let now = self.now_ms();
        let ttl = self.sim.cfg.ttl_ms;
        let round = plan(&records, now, ttl, |k| self.may_skip_backoff(k), |k| self.live.borrow().contains_key(k));
        for key in &round.expired {
            self.store_delete(key, false, "drain:expired-deleted").await;
            self.report(key, Report::Expired);
        }
        if round.ready.is_empty() {
            self.drain_forced.set(false);
            return round.wake_at_ms;
        }
        let mut progressed = false;
        for key in &round.ready {
            let forced = self.may_skip_backoff(key);
            let listed = records.iter().find(|r| &r.key == key).cloned();
            progressed |= self.resend(key, forced, listed).await;
            if forced {
                self.forced_done.borrow_mut().insert(key.clone());
            }
        }
        self.count_idle_round(progressed, &round.ready);
        Some(self.now_ms())
    }

    /// Check only: a round that resent nothing is followed by another at once.
    fn count_idle_round(&self, progressed: bool, ready: &[String]) {
        let streak = if progressed { 0 } else { self.idle_streak.get() + 1 };
        self.idle_streak.set(streak);
        if progressed {
            return;
        }
        let mut ledger = self.sim.ledger.borrow_mut();
        let k = &mut ledger.known;
        k.idle_rounds += 1;
        k.longest_idle_streak = k.longest_idle_streak.max(streak);
        if streak == 50 && k.spin_example.is_none() {
            k.spin_example = Some(format!(
                "client {} ran {streak} drain rounds in a row by t={} ms, each skipping {ready:?} whose lock another context holds",
                self.instance,
                self.sim.exec.now()
            ));
        }
    }

    /// One attempt of one stored operation. True when it sent or wrote.
    async fn resend(self: &Rc<Self>, key: &str, forced: bool, listed: Option<Record>) -> bool {
        let Some(_lock) = self.acquire(key, false, "resend:locked").await else {
            return false;
        };
        // Fresh, under the lock: another sender may have moved it on.
        let fresh = self.store_get(key, "resend:reread").await.map(|v| Record::decode(&v));
        let fresh = if self.sim.cfg.mutant == Mutant::NoRereadUnderLock { listed.map(Ok) } else { fresh };
        let record = match fresh {
            Some(Ok(r)) => r,
            _ => return false,
        };
        let due_at = if forced { record.not_before } else { record.next_attempt_at.max(record.not_before) };
        if due_at > self.now_ms() || self.live.borrow().contains_key(key) {
            return false;
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
                self.store_delete(&key, true, "resend:settled-deleted").await;
                let status = outcome.status().unwrap_or(0);
                self.report(&key, Report::Status(status));
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
