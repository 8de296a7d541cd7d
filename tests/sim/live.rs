//! A caller's durable call, as src/shell/client.rs (`fetch`, `join`,
//! `end_live`, `run_durable`) and src/shell/live.rs (`run`) make it:
//! persist, then send; attempts bounded by the core's Schedule; progress
//! persisted after each transient outcome; on a definitive answer,
//! 'settled' reported, then the record deleted; 'queued' when the live
//! bounds end.

use std::cell::RefCell;
use std::rc::Rc;

use durafetch::core::breaker::Admission;
use durafetch::core::outbox::Resend;
use durafetch::core::outcome::Outcome;
use durafetch::core::record::Record;
use durafetch::core::retry_after::parse_retry_after;
use durafetch::core::schedule::{Decision, GiveUp, Schedule};

use super::client::{Abort, Call, CallResult, Client, Live, Prepared};
use super::exec::Slot;
use super::ledger::{AttemptAt, Report, Sender};
use super::net::{dispatch, Reply};
use super::world::Mutant;

pub enum RunEnd {
    Settled { status: u16 },
    GaveUp { reason: &'static str, attempts: u32, outcome: Option<Outcome>, retry_in_ms: u64 },
    Aborted,
}

pub enum Attempt {
    Done(Outcome),
    Aborted,
}

impl Client {
    pub async fn fetch(self: Rc<Self>, call: Call) -> CallResult {
        let op = self.prepare(call);
        let key = op.key.clone();
        match self.join(&key, &op) {
            Err(refused) => return refused,
            Ok(Some(joined)) => return joined.wait().await,
            Ok(None) => {}
        }
        let result = self.clone().run_durable(&op).await;
        self.end_live(&key, &result);
        result
    }

    /// Joins the call already running here with this key, or registers one.
    fn join(&self, key: &str, op: &Prepared) -> Result<Option<Slot<CallResult>>, CallResult> {
        let mut live = self.live.borrow_mut();
        if let Some(running) = live.get_mut(key) {
            if running.fingerprint != op.fingerprint {
                return Err(CallResult::Failed("key-reuse"));
            }
            let slot = Slot::new();
            running.joiners.push(slot.clone());
            return Ok(Some(slot));
        }
        live.insert(key.to_string(), Live { fingerprint: op.fingerprint.clone(), joiners: Vec::new() });
        Ok(None)
    }

    pub fn end_live(&self, key: &str, result: &CallResult) {
        let Some(live) = self.live.borrow_mut().remove(key) else { return };
        live.joiners.iter().for_each(|j| j.fill(result.clone()));
    }

    async fn run_durable(self: Rc<Self>, op: &Prepared) -> CallResult {
        let key = op.key.as_str();
        let stored = self.store_get(key, "live:got").await;
        let record = match stored.as_ref().map(Record::decode) {
            Some(Ok(r)) if r.fingerprint == op.fingerprint => r,
            Some(Ok(_)) => return CallResult::Failed("key-reuse"),
            Some(Err(_)) => return CallResult::Failed("storage"),
            None => {
                let r = self.new_record(op);
                // A new record (a resubmission may follow a settled one): a new life.
                self.sim.ledger.borrow_mut().ops[op.op].settled_at = None;
                if self.sim.cfg.mutant != Mutant::SendBeforePersist {
                    self.store_put(&r, "live:persisted").await;
                }
                r
            }
        };
        let Some(lock) = self.acquire(key, false, "live:locked").await else {
            // Another tab or worker is sending it right now; it stays stored.
            return CallResult::Failed("queued");
        };
        let record = RefCell::new(record);
        let end = self.run(op, Some(&record)).await;
        let result = match end {
            RunEnd::Settled { status, .. } => {
                self.settle(key, status, ("live:settled-reported", "live:settled-deleted")).await;
                CallResult::Status(status)
            }
            RunEnd::GaveUp { reason, attempts, outcome, retry_in_ms } => {
                let mut r = record.into_inner();
                r.attempts = r.attempts.max(attempts);
                (r.next_attempt_at, r.not_before) = match outcome {
                    _ if reason == "circuit-open" => (self.now_ms() + retry_in_ms as f64, 0.0),
                    Some(o) => match self.after_resend_checked(key, r.attempts, &o) {
                        Resend::RetryAt { next_attempt_at, not_before, .. } => (next_attempt_at, not_before),
                        Resend::Settle => (self.now_ms(), 0.0),
                    },
                    None => (self.now_ms(), 0.0),
                };
                if self.sim.cfg.mutant == Mutant::ForgetWhenQueued {
                    self.store_delete(key, false, "live:queued-persisted").await;
                } else {
                    self.store_put(&r, "live:queued-persisted").await;
                }
                self.sim.log(|| format!("c{} queued {key} ({reason})", self.instance));
                CallResult::Failed("queued")
            }
            RunEnd::Aborted => {
                // The caller withdrew it: it must not be resent later.
                self.store_delete(key, false, "live:aborted-deleted").await;
                self.report(key, Report::Aborted);
                CallResult::Failed("aborted")
            }
        };
        drop(lock);
        self.kick();
        result
    }

    /// A definitive answer, live or resent: 'settled' first, then the
    /// delete. A crash in between leaves the record; the next sender gets
    /// the server's replay and reports it again (at least once).
    /// `labels`: the crash points after the report and after the delete.
    pub async fn settle(&self, key: &str, status: u16, labels: (&'static str, &'static str)) {
        let (reported, deleted) = labels;
        if self.sim.cfg.mutant == Mutant::DeleteBeforeSettled {
            self.store_delete(key, true, deleted).await;
            self.report(key, Report::Settled(status));
            return;
        }
        self.report(key, Report::Settled(status));
        // The tab may die before the delete commits.
        self.step(reported).await;
        self.store_delete(key, true, deleted).await;
    }

    /// src/shell/live.rs `run`.
    async fn run(&self, op: &Prepared, durable: Option<&RefCell<Record>>) -> RunEnd {
        let policy = &self.sim.cfg.policy;
        let origin = Client::origin(&op.url);
        let mut schedule = Schedule::new(self.now_ms());
        let (started, back_at_start) = (self.sim.exec.now(), self.sim.back_jumped());
        let mut last_outcome = None;
        // Check only: the virtual time before which the server asked us to wait.
        let mut floor = 0;
        loop {
            if op.signal.aborted() {
                return RunEnd::Aborted;
            }
            let plan = match schedule.begin_attempt(policy, self.now_ms()) {
                Ok(plan) => plan,
                Err(give_up) => {
                    let attempts = schedule.attempts();
                    return RunEnd::GaveUp { reason: give_up.as_str(), attempts, outcome: last_outcome, retry_in_ms: 0 };
                }
            };
            let admission = self.admit(&origin);
            if let Admission::Rejected { retry_in_ms } = admission {
                let attempts = plan.attempt - 1;
                return RunEnd::GaveUp { reason: "circuit-open", attempts, outcome: last_outcome, retry_in_ms };
            }
            let aborted = op.signal.aborted();
            let sender = Sender::Live { call: op.call, attempt: plan.attempt, started, back_at_start, floor, resubmission: op.resubmission, aborted };
            let labels = ("live:in-flight", "live:answered");
            let outcome = match self.send(op, plan.timeout_ms, Some(&op.signal), sender, labels).await {
                Attempt::Aborted => {
                    if admission == Admission::Probe {
                        self.record_breaker(&origin, None);
                    }
                    continue;
                }
                Attempt::Done(outcome) => outcome,
            };
            self.record_breaker(&origin, Some(&outcome));
            last_outcome = Some(outcome);
            let decision = schedule.after(policy, &outcome, self.now_ms(), &mut self.rng.borrow_mut());
            match decision {
                Decision::Settle => return RunEnd::Settled { status: outcome.status().unwrap_or(0) },
                Decision::GiveUp(give_up) => {
                    let reason = if give_up == GiveUp::Deadline && outcome == Outcome::Timeout { "deadline" } else { give_up.as_str() };
                    return RunEnd::GaveUp { reason, attempts: plan.attempt, outcome: Some(outcome), retry_in_ms: 0 };
                }
                Decision::Retry { delay_ms, server_asked, .. } => {
                    let asked = match outcome {
                        Outcome::Response { retry_after_ms: Some(ms), .. } => Some(ms),
                        _ => None,
                    };
                    self.sim.ledger.borrow_mut().on_wait(op.op, plan.attempt - 1, delay_ms, asked, policy.backoff);
                    if server_asked {
                        floor = self.sim.exec.now() + delay_ms;
                    }
                    if let Some(record) = durable {
                        let snapshot = {
                            let mut r = record.borrow_mut();
                            r.attempts = plan.attempt;
                            r.next_attempt_at = self.now_ms() + delay_ms as f64;
                            r.not_before = if server_asked { r.next_attempt_at } else { 0.0 };
                            r.clone()
                        };
                        self.store_put(&snapshot, "live:retry-persisted").await;
                    }
                    // resume() and 'online' end our own waits, never one the
                    // server asked for: it said when, and earlier is refused.
                    let no_wakers = RefCell::new(Vec::new());
                    let wakers = if server_asked { &no_wakers } else { &self.sleepers };
                    self.asked_waits.set(self.asked_waits.get() + server_asked as u64);
                    self.sleep(delay_ms, Some(&op.signal), wakers).await;
                    self.asked_waits.set(self.asked_waits.get() - server_asked as u64);
                }
            }
        }
    }

    /// src/shell/request.rs `send`: one attempt, its timeout, the caller's signal.
    pub async fn send(
        &self,
        op: &Prepared,
        timeout_ms: u64,
        signal: Option<&Rc<Abort>>,
        sender: Sender,
        labels: (&'static str, &'static str),
    ) -> Attempt {
        let at = AttemptAt {
            mono: self.sim.exec.now(),
            wall: self.now_ms(),
            back_jumped: self.sim.back_jumped(),
            web_locks: self.sim.cfg.web_locks,
            record_stored: self.sim.store.borrow().contains_key(&op.key),
            max_attempts: self.sim.cfg.policy.max_attempts,
            deadline_ms: self.sim.cfg.policy.deadline_ms,
            timeout_ms,
            attempt_timeout_ms: self.sim.cfg.policy.attempt_timeout_ms,
        };
        let key = match self.sim.cfg.mutant {
            Mutant::KeyPerAttempt => super::app::new_key(&self.sim),
            _ => op.key.clone(),
        };
        self.sim.ledger.borrow_mut().on_attempt(op.op, &key, &sender, &at);
        self.sim.log(|| format!("c{} send {key} op {} timeout {timeout_ms}", self.instance, op.op));
        let _sending = self.sim.in_flight.start(&op.key, self.instance);
        let reply = Slot::new();
        dispatch(&self.sim, key, op.body.clone(), reply.clone());
        let timer = reply.clone();
        self.sim.exec.after(timeout_ms, move || timer.fill(Reply::Timeout));
        if let Some(s) = signal {
            let abort = reply.clone();
            s.on_abort(move || abort.fill(Reply::Aborted));
        }
        self.step(labels.0).await;
        let answer = reply.wait().await;
        let aborted = signal.is_some_and(|s| s.aborted());
        let attempt = match answer {
            _ if aborted => Attempt::Aborted,
            Reply::Aborted => Attempt::Aborted,
            Reply::Answered { status, retry_after } => {
                let retry_after_ms = retry_after.and_then(|v| parse_retry_after(&v, self.now_ms()));
                Attempt::Done(Outcome::Response { status, retry_after_ms })
            }
            Reply::Network => Attempt::Done(Outcome::Network),
            Reply::Timeout => Attempt::Done(Outcome::Timeout),
        };
        self.sim.log(|| match &attempt {
            Attempt::Done(o) => format!("c{} {} -> {o:?}", self.instance, op.key),
            Attempt::Aborted => format!("c{} {} -> aborted", self.instance, op.key),
        });
        self.step(labels.1).await;
        attempt
    }
}
