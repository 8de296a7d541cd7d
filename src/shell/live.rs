//! One live call: its attempts as the core's schedule and the origin's
//! breaker decide, until it settles, gives up or is aborted.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use web_sys::Response;

use super::client::Inner;
use super::js::{now_ms, Fields};
use super::record_js::encode;
use super::request::{discard, send, Attempt, Prepared};
use super::timer::sleep;
use crate::core::breaker::Admission;
use crate::core::key::origin_of;
use crate::core::outcome::Outcome;
use crate::core::record::Record;
use crate::core::schedule::{Decision, GiveUp, Schedule};

pub enum RunEnd {
    /// A definitive answer.
    Settled { response: Response, attempts: u32 },
    /// No definitive answer within the call's bounds.
    GaveUp {
        reason: &'static str,
        attempts: u32,
        last: Option<Response>,
        outcome: Option<Outcome>,
        cause: JsValue,
        retry_in_ms: u64,
    },
    Aborted { attempts: u32, reason: JsValue },
    Closed { attempts: u32 },
}

pub fn key_value(op: &Prepared) -> JsValue {
    op.key.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

impl Inner {
    /// Runs the call. With `durable`, progress is written to the store after
    /// every transient outcome, so a crash resumes with the right backoff.
    pub async fn run(&self, op: &Prepared, durable: Option<&RefCell<Record>>) -> RunEnd {
        let policy = &self.options.policy;
        let origin = origin_of(&op.url);
        let mut schedule = Schedule::new(now_ms());
        let mut last: Option<Response> = None;
        let mut last_outcome = None;
        let mut cause = JsValue::UNDEFINED;
        loop {
            if let Some(signal) = op.signal.as_ref().filter(|s| s.aborted()) {
                return RunEnd::Aborted { attempts: schedule.attempts(), reason: signal.reason() };
            }
            if self.is_closed() {
                return RunEnd::Closed { attempts: schedule.attempts() };
            }
            let plan = match schedule.begin_attempt(policy, now_ms()) {
                Ok(plan) => plan,
                Err(give_up) => {
                    let (attempts, outcome) = (schedule.attempts(), last_outcome);
                    return RunEnd::GaveUp { reason: give_up.as_str(), attempts, last, outcome, cause, retry_in_ms: 0 };
                }
            };
            let admission = self.admit(origin);
            if let Admission::Rejected { retry_in_ms } = admission {
                let attempts = plan.attempt - 1;
                let outcome = last_outcome;
                return RunEnd::GaveUp { reason: "circuit-open", attempts, last, outcome, cause, retry_in_ms };
            }
            if let Some(previous) = last.take() {
                discard(&previous);
            }
            if let Some(key) = &op.key {
                self.set_live_attempts(key, plan.attempt);
            }
            self.emit("attempt", || Fields::new()
                    .set("key", key_value(op))
                    .set("method", op.method.as_str())
                    .set("url", op.url.as_str())
                    .set("attempt", plan.attempt)
                    .set("resumed", false),
            );
            let (outcome, response) = match send(self.fetch.as_ref(), op, plan.timeout_ms).await {
                Attempt::Aborted => {
                    if admission == Admission::Probe {
                        self.record_breaker(origin, None);
                    }
                    continue;
                }
                Attempt::Answered { outcome, response } => (outcome, Some(response)),
                Attempt::Failed { outcome, cause: c } => {
                    cause = c;
                    (outcome, None)
                }
            };
            self.record_breaker(origin, Some(&outcome));
            last_outcome = Some(outcome);
            let decision = schedule.after(policy, &outcome, now_ms(), &mut self.rng.borrow_mut());
            match (decision, response) {
                // Only an answer settles: network errors and timeouts always retry.
                (Decision::Settle, Some(response)) => {
                    return RunEnd::Settled { response, attempts: plan.attempt };
                }
                (Decision::Settle, None) => {
                    let outcome = Some(outcome);
                    return RunEnd::GaveUp { reason: "exhausted", attempts: plan.attempt, last: None, outcome, cause, retry_in_ms: 0 };
                }
                (Decision::GiveUp(give_up), response) => {
                    let reason = if give_up == GiveUp::Deadline && outcome == Outcome::Timeout { "deadline" } else { give_up.as_str() };
                    let outcome = Some(outcome);
                    return RunEnd::GaveUp { reason, attempts: plan.attempt, last: response, outcome, cause, retry_in_ms: 0 };
                }
                (Decision::Retry { delay_ms, reason, server_asked }, response) => {
                    self.emit("retry", || Fields::new()
                            .set("key", key_value(op))
                            .set("attempt", plan.attempt)
                            .set("delayMs", delay_ms as f64)
                            .set("reason", reason.as_str())
                            .set_opt("status", outcome.status())
                            .set("resumed", false),
                    );
                    if let Some(record) = durable {
                        let encoded = {
                            let mut r = record.borrow_mut();
                            r.attempts = plan.attempt;
                            r.next_attempt_at = now_ms() + delay_ms as f64;
                            r.not_before = if server_asked { r.next_attempt_at } else { 0.0 };
                            encode(&r)
                        };
                        if let Some(key) = &op.key {
                            if let Err(e) = self.store.put(&encoded, key).await {
                                self.emit_store_error(e);
                            }
                        }
                    }
                    last = response;
                    // resume() and 'online' end our own waits, never one the
                    // server asked for: it said when, and earlier is refused.
                    let no_wakers = RefCell::new(Vec::new());
                    let wakers = if server_asked { &no_wakers } else { &self.sleepers };
                    sleep(delay_ms, op.signal.as_ref(), wakers).await;
                }
            }
        }
    }
}
