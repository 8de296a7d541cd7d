//! Background resends of stored operations: after a reload, a crash, going
//! back online, or a live call that ended 'queued'.
//!
//! One drain loop per client, one round at a time per origin (the
//! `drain` Web Lock), each resend under its key's lock and after re-reading
//! the record under that lock: whoever sent it last may have settled it or
//! pushed its next attempt back.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request};

use super::client::{Inner, Live};
use super::errors::failure;
use super::js::{get, now_ms, Fields};
use super::record_js::{decode, encode};
use super::request::{new_request, send, Attempt, Prepared};
use super::timer::sleep;
use crate::core::breaker::Admission;
use crate::core::key::origin_of;
use crate::core::outbox::{after_resend, plan, Resend};
use crate::core::record::{key_of, DecodeError, Record};

/// How long to wait before reading a store that just failed.
const STORE_RETRY_MS: f64 = 5_000.0;
/// How long to wait when every ready record is being sent elsewhere (its
/// key's lock is held by another tab): looking again at once would spin.
const LOCKED_RETRY_MS: f64 = 250.0;

impl Inner {
    /// Starts the drain loop, or wakes it if it is running.
    pub fn kick(self: &Rc<Self>) {
        if self.is_closed() {
            return;
        }
        if self.draining.get() {
            self.drain_again.set(true);
            for wake in self.drain_wake.take() {
                let _ = wake.call0(&JsValue::NULL);
            }
            return;
        }
        self.draining.set(true);
        wasm_bindgen_futures::spawn_local(self.clone().drain_loop());
    }

    /// Resend every pending record once, now.
    pub fn force_pass(self: &Rc<Self>) {
        self.forced_done.borrow_mut().clear();
        self.drain_forced.set(true);
        self.kick();
    }

    fn may_skip_backoff(&self, key: &str) -> bool {
        self.drain_forced.get() && !self.forced_done.borrow().contains_key(key)
    }

    async fn drain_loop(self: Rc<Self>) {
        while !self.is_closed() {
            self.drain_again.set(false);
            let wake_at = self.drain_round().await;
            if self.drain_again.get() {
                continue;
            }
            let Some(at) = wake_at else { break };
            let delay = (at - now_ms()).max(0.0).ceil() as u64;
            if delay > 0 {
                sleep(delay, Some(&self.lifetime.signal()), &self.drain_wake).await;
            }
        }
        self.draining.set(false);
    }

    /// One pass over the store. Returns when to look again (`None`: nothing left).
    async fn drain_round(self: &Rc<Self>) -> Option<f64> {
        let _round = self.locks.acquire("drain", true).await;
        let values = match self.store.list().await {
            Ok(v) => v,
            Err(e) => {
                self.emit_store_error(e);
                return Some(now_ms() + STORE_RETRY_MS);
            }
        };
        let mut records = Vec::with_capacity(values.len());
        for value in values {
            match decode(&value) {
                Ok(r) => records.push(r),
                Err(e) => self.quarantine(&value, e).await,
            }
        }
        let now = now_ms();
        let round = plan(&records, now, self.options.ttl_ms, |k| self.may_skip_backoff(k), |k| {
            self.live.borrow().contains_key(k)
        });
        let mut expiry_waits = false;
        for key in &round.expired {
            expiry_waits |= !self.expire(key).await;
        }
        if round.ready.is_empty() {
            // The forced pass is over. Records a live call holds are its
            // business; it kicks us when done. An expiry another tab holds
            // the key of is looked at again.
            self.drain_forced.set(false);
            let retry = now_ms() + LOCKED_RETRY_MS;
            return if expiry_waits { Some(round.wake_at_ms.map_or(retry, |w| w.min(retry))) } else { round.wake_at_ms };
        }
        let mut progressed = false;
        for key in &round.ready {
            if self.is_closed() {
                return None;
            }
            let forced = self.may_skip_backoff(key);
            if self.resend(key, forced).await {
                progressed = true;
                if forced {
                    self.forced_done.borrow_mut().insert(key, ());
                }
            }
        }
        if progressed {
            Some(now_ms())
        } else {
            let retry = now_ms() + LOCKED_RETRY_MS;
            Some(round.wake_at_ms.map_or(retry, |w| w.min(retry)))
        }
    }

    /// Removes a record past its TTL, under its key's lock (a live call in
    /// another tab may be sending it) and after reading it again (someone may
    /// have settled it). The decision is written into the record first, then
    /// reported, then the record deleted: a crash anywhere in between reports
    /// it again later, and neither a crash nor a clock set back can revive
    /// it. False when the key is locked elsewhere (look again later).
    async fn expire(&self, key: &str) -> bool {
        let Some(_lock) = self.locks.acquire(key, false).await else {
            return false;
        };
        let mut record = match self.store.get(key).await {
            Ok(Some(v)) => match decode(&v) {
                Ok(r) if r.expired_at != 0.0 || r.created_at + self.options.ttl_ms as f64 <= now_ms() => r,
                _ => return true,
            },
            Ok(None) => return true,
            Err(e) => {
                self.emit_store_error(e);
                return true;
            }
        };
        if record.expired_at == 0.0 {
            record.expired_at = now_ms();
            if let Err(e) = self.store.put(&encode(&record), key).await {
                self.emit_store_error(e);
                return true;
            }
        }
        let attempts = record.attempts;
        self.emit("giveup", || Fields::new().set("key", key).set("reason", "expired").set("attempts", attempts));
        if let Err(e) = self.store.delete(key).await {
            self.emit_store_error(e);
        }
        true
    }

    async fn quarantine(&self, value: &JsValue, error: DecodeError) {
        let primary = get(value, "key");
        let label = key_of(&super::js::to_value(value, 1)).map(str::to_string).unwrap_or_else(|| "(no key)".into());
        if self.reported.borrow().contains_key(&label) {
            return;
        }
        let reason = error.describe();
        let moved = match self.store.quarantine(&primary, value, &reason).await {
            Ok(moved) => moved,
            Err(e) => {
                self.emit_store_error(e);
                false
            }
        };
        if !moved {
            self.reported.borrow_mut().insert(&label, ());
        }
        self.emit("store", || Fields::new().set("type", "quarantined").set("key", label).set("reason", reason).set("moved", moved),
        );
    }

    /// One attempt of one stored operation. False when its key is locked
    /// (being sent elsewhere); true when it was dealt with.
    async fn resend(self: &Rc<Self>, key: &str, forced: bool) -> bool {
        let Some(_lock) = self.locks.acquire(key, false).await else {
            return false;
        };
        // Fresh, under the lock: another sender may have moved it on.
        let record = match self.store.get(key).await {
            Ok(Some(v)) => match decode(&v) {
                Ok(r) => r,
                Err(_) => return true,
            },
            Ok(None) => return true,
            Err(e) => {
                self.emit_store_error(e);
                return true;
            }
        };
        let due_at = if forced { record.not_before } else { record.next_attempt_at.max(record.not_before) };
        if due_at > now_ms() || self.live.borrow().contains_key(key) {
            return true;
        }
        let origin = origin_of(&record.url).to_string();
        let admission = self.admit(&origin);
        if let crate::core::breaker::Admission::Rejected { retry_in_ms } = admission {
            let mut r = record;
            r.next_attempt_at = now_ms() + retry_in_ms.max(1) as f64;
            if let Err(e) = self.store.put(&encode(&r), key).await {
                self.emit_store_error(e);
            }
            return true;
        }
        self.live.borrow_mut().insert(
            key,
            Live {
                fingerprint: record.fingerprint.clone(),
                method: record.method.clone(),
                url: record.url.clone(),
                created_at: record.created_at,
                attempts: record.attempts,
                joiners: Vec::new(),
            },
        );
        let result = self.resend_attempt(record, admission).await;
        self.end_live(key, &result);
        true
    }

    async fn resend_attempt(self: &Rc<Self>, mut record: Record, admission: Admission) -> Result<JsValue, JsValue> {
        let key = record.key.clone();
        let keyv = JsValue::from_str(&key);
        let origin = origin_of(&record.url).to_string();
        let attempt = record.attempts + 1;
        let op = match self.replayable(&record).await {
            Ok(op) => op,
            Err(cause) => {
                if admission == Admission::Probe {
                    self.record_breaker(&origin, None);
                }
                record.next_attempt_at = now_ms() + STORE_RETRY_MS;
                let _ = self.store.put(&encode(&record), &key).await;
                self.emit_store_error(failure("before-replay").set("key", key.as_str()).set("cause", cause.clone()).build());
                return Err(cause);
            }
        };
        self.emit("attempt", || Fields::new()
                .set("key", key.as_str())
                .set("method", record.method.as_str())
                .set("url", record.url.as_str())
                .set("attempt", attempt)
                .set("resumed", true),
        );
        let (outcome, response) = match send(self.fetch.as_ref(), &op, self.options.policy.attempt_timeout_ms).await {
            Attempt::Aborted => {
                if admission == Admission::Probe {
                    self.record_breaker(&origin, None);
                }
                return Err(failure("closed").build());
            }
            Attempt::Answered { outcome, response } => (outcome, Some(response)),
            Attempt::Failed { outcome, .. } => (outcome, None),
        };
        self.record_breaker(&origin, Some(&outcome));
        record.attempts = attempt;
        let decision = after_resend(&self.options.policy, attempt, &outcome, now_ms(), &mut self.rng.borrow_mut());
        match (decision, response) {
            // Only an answer settles: network errors and timeouts always retry.
            (Resend::Settle, Some(response)) => {
                let status = outcome.status().unwrap_or(0);
                // Joiners get copies; the event gets the original.
                let copy = response.clone().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
                // Reported before the record goes (see run_durable).
                self.emit_settled(&keyv, status, attempt, Some(&response));
                if let Err(e) = self.store.delete(&key).await {
                    self.emit_store_error(e);
                }
                Ok(copy)
            }
            (Resend::Settle, None) => Err(failure("queued").set("key", keyv).set("attempts", attempt).build()),
            (Resend::RetryAt { next_attempt_at, not_before, delay_ms, reason }, response) => {
                if let Some(r) = &response {
                    super::request::discard(r);
                }
                record.next_attempt_at = next_attempt_at;
                record.not_before = not_before;
                if let Err(e) = self.store.put(&encode(&record), &key).await {
                    self.emit_store_error(e);
                }
                self.emit("retry", || Fields::new()
                        .set("key", keyv.clone())
                        .set("attempt", attempt)
                        .set("delayMs", delay_ms as f64)
                        .set("reason", reason.as_str())
                        .set_opt("status", outcome.status())
                        .set("resumed", true),
                );
                Err(failure("queued").set("key", keyv).set("attempts", attempt).set("reason", reason.as_str()).build())
            }
        }
    }

    /// A sendable request from a stored record. Redacted headers were never
    /// stored: `beforeReplay(request)` may put them back (or return a new
    /// Request); the key header is set last so a hook cannot drop it.
    async fn replayable(&self, r: &Record) -> Result<Prepared, JsValue> {
        let headers = Headers::new()?;
        for (name, value) in &r.headers {
            headers.append(name, value)?;
        }
        let init = Fields::new().set("method", r.method.as_str()).set("headers", &headers).build();
        let mut base = new_request(&JsValue::from_str(&r.url), &init)?;
        if let Some(hook) = &self.before_replay {
            let returned = hook.call1(&JsValue::NULL, &base)?;
            let returned = JsFuture::from(js_sys::Promise::resolve(&returned)).await?;
            if let Ok(replaced) = returned.dyn_into::<Request>() {
                base = replaced;
            }
        }
        let headers = Headers::new_with_headers(&base.headers())?;
        headers.set(&self.options.idempotency_header, &r.key)?;
        let body = r.body.as_deref().map(js_sys::Uint8Array::from);
        Ok(Prepared {
            signal: Some(self.lifetime.signal()),
            method: r.method.clone(),
            url: r.url.clone(),
            fingerprint: r.fingerprint.clone(),
            key: Some(r.key.clone()),
            durable: Some(true),
            base,
            body,
            headers,
        })
    }
}

