//! The client the JS entry wraps: runs each call's attempts as the core's
//! schedule and breakers decide, and reports what happens as events.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::Response;

use super::errors::failure;
use super::js::{adapter_entries, entries, get, now_ms, Fields};
use super::request::{discard, prepare, send, Attempt, Prepared};
use super::timer::sleep;
use crate::core::breaker::{Admission, Breaker, Transition};
use crate::core::key::origin_of;
use crate::core::options::Options;
use crate::core::value::Value;
use crate::core::outcome::Outcome;
use crate::core::rng::SplitMix64;
use crate::core::schedule::{Decision, GiveUp, Schedule};

/// A keyed operation in flight: later calls with the same key join it.
struct Live {
    fingerprint: String,
    method: String,
    url: String,
    created_at: f64,
    attempts: u32,
    joiners: Vec<(Function, Function)>,
}

struct Inner {
    options: Options,
    emit: Function,
    fetch: Option<Function>,
    rng: RefCell<SplitMix64>,
    breakers: RefCell<BTreeMap<String, Breaker>>,
    live: RefCell<BTreeMap<String, Live>>,
    sleepers: RefCell<Vec<Function>>,
    closed: Cell<bool>,
}

#[wasm_bindgen]
pub struct Client {
    inner: Rc<Inner>,
}

fn parse_options(options: &JsValue) -> Result<Options, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(Options::default());
    }
    if !options.is_object() || Array::is_array(options) {
        let f = failure("invalid-option").set("option", "options").set("expected", "an object");
        return Err(f.set("value", options).build());
    }
    let mut list = entries(options, 3);
    for (name, value) in list.iter_mut() {
        if name == "store" && matches!(value, Value::Object(_)) {
            *value = adapter_entries(&get(options, "store"));
        }
    }
    Options::parse(&list).map_err(|e| {
        let value = e.option.split('.').fold(options.clone(), |v, part| get(&v, part));
        failure("invalid-option").set("option", e.option).set("expected", e.expected).set("value", value).build()
    })
}

fn random_seed() -> Result<u64, JsValue> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|_| failure("unsupported-runtime").set("missing", "crypto.getRandomValues").build())?;
    Ok(u64::from_le_bytes(bytes))
}

#[wasm_bindgen]
impl Client {
    /// `emit(type, payload)` delivers events to the JS listeners.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, emit: Function) -> Result<Client, JsValue> {
        let parsed = parse_options(&options)?;
        let seed = match parsed.seed {
            Some(seed) => seed,
            None => random_seed()?,
        };
        let fetch = get(&options, "fetch").dyn_into::<Function>().ok();
        let inner = Inner {
            options: parsed,
            emit,
            fetch,
            rng: RefCell::new(SplitMix64::new(seed)),
            breakers: RefCell::new(BTreeMap::new()),
            live: RefCell::new(BTreeMap::new()),
            sleepers: RefCell::new(Vec::new()),
            closed: Cell::new(false),
        };
        Ok(Client { inner: Rc::new(inner) })
    }

    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { inner.fetch(input, init).await })
    }

    /// Keyed operations not yet settled.
    pub fn pending(&self) -> Array {
        self.inner
            .live
            .borrow()
            .iter()
            .map(|(key, live)| {
                Fields::new()
                    .set("key", key.as_str())
                    .set("method", live.method.as_str())
                    .set("url", live.url.as_str())
                    .set("attempts", live.attempts)
                    .set("createdAt", live.created_at)
                    .build()
            })
            .collect()
    }

    /// Ends every wait now: waiting operations are resent at once. Returns
    /// how many were waiting.
    pub fn resume(&self) -> u32 {
        let sleepers = std::mem::take(&mut *self.inner.sleepers.borrow_mut());
        for wake in &sleepers {
            let _ = wake.call0(&JsValue::NULL);
        }
        sleepers.len() as u32
    }

    /// No new calls; calls waiting to retry end with kind 'closed'.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.resume();
    }
}

impl Inner {
    fn emit(&self, kind: &str, payload: Fields) {
        let _ = self.emit.call2(&JsValue::NULL, &JsValue::from_str(kind), &payload.build());
    }

    fn emit_breaker(&self, origin: &str, transition: Option<Transition>) {
        if let Some(t) = transition {
            self.emit("breaker", Fields::new().set("origin", origin).set("state", t.as_str()));
        }
    }

    async fn fetch(self: Rc<Self>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
        if self.closed.get() {
            return Err(failure("closed").build());
        }
        let op = prepare(&input, &init, &self.options.idempotency_header).await?;
        let Some(key) = op.key.clone() else {
            return self.run(&op).await;
        };
        if let Some(joined) = self.join(&key, &op)? {
            return JsFuture::from(joined).await;
        }
        let result = self.run(&op).await;
        if let Some(live) = self.live.borrow_mut().remove(&key) {
            for (resolve, reject) in live.joiners {
                let _ = match &result {
                    Ok(value) => match value.dyn_ref::<Response>().map(|r| r.clone()) {
                        Some(Ok(copy)) => resolve.call1(&JsValue::NULL, &copy),
                        Some(Err(e)) => reject.call1(&JsValue::NULL, &e),
                        None => resolve.call1(&JsValue::NULL, value),
                    },
                    Err(e) => reject.call1(&JsValue::NULL, e),
                };
            }
        }
        result
    }

    /// Registers a keyed operation, or joins the one already running with the
    /// same key. The same key for a different request is refused.
    fn join(&self, key: &str, op: &Prepared) -> Result<Option<Promise>, JsValue> {
        let mut live = self.live.borrow_mut();
        if let Some(running) = live.get_mut(key) {
            if running.fingerprint != op.fingerprint {
                return Err(failure("key-reuse").set("key", key).build());
            }
            let mut slot = None;
            let promise = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
            running.joiners.extend(slot);
            return Ok(Some(promise));
        }
        live.insert(
            key.to_string(),
            Live {
                fingerprint: op.fingerprint.clone(),
                method: op.method.clone(),
                url: op.url.clone(),
                created_at: now_ms(),
                attempts: 0,
                joiners: Vec::new(),
            },
        );
        Ok(None)
    }

    fn admit(&self, origin: &str) -> Admission {
        let Some(config) = self.options.breaker else {
            return Admission::Allowed;
        };
        let (admission, transition) = self
            .breakers
            .borrow_mut()
            .entry(origin.to_string())
            .or_insert_with(|| Breaker::new(config))
            .admit(now_ms());
        self.emit_breaker(origin, transition);
        admission
    }

    fn record(&self, origin: &str, outcome: Option<&Outcome>) {
        let mut breakers = self.breakers.borrow_mut();
        let Some(breaker) = breakers.get_mut(origin) else {
            return;
        };
        let transition = match outcome {
            None => {
                breaker.on_abandon();
                None
            }
            Some(o) if o.retry_reason(&self.options.policy.retry_on).is_some() => breaker.on_failure(now_ms()),
            Some(_) => breaker.on_success(),
        };
        drop(breakers);
        self.emit_breaker(origin, transition);
    }

    fn give_up(&self, op: &Prepared, reason: &str, attempts: u32, last: Option<Response>, cause: JsValue) -> Result<JsValue, JsValue> {
        let status = last.as_ref().map(|r| r.status());
        self.emit(
            "giveup",
            Fields::new().set("key", key_value(op)).set("reason", reason).set("attempts", attempts).set_opt("status", status),
        );
        match last {
            Some(response) => Ok(response.into()),
            None => Err(failure(reason)
                .set("key", key_value(op))
                .set("attempts", attempts)
                .set("method", op.method.as_str())
                .set("url", op.url.as_str())
                .set("cause", cause)
                .build()),
        }
    }

    async fn run(&self, op: &Prepared) -> Result<JsValue, JsValue> {
        let policy = &self.options.policy;
        let origin = origin_of(&op.url);
        let mut schedule = Schedule::new(now_ms());
        let mut last: Option<Response> = None;
        let mut cause = JsValue::UNDEFINED;
        loop {
            if op.signal.aborted() {
                let reason = op.signal.reason();
                return self.give_up(op, "aborted", schedule.attempts(), None, reason);
            }
            if self.closed.get() {
                return self.give_up(op, "closed", schedule.attempts(), None, cause);
            }
            let plan = match schedule.begin_attempt(policy, now_ms()) {
                Ok(plan) => plan,
                Err(give_up) => return self.give_up(op, give_up.as_str(), schedule.attempts(), last, cause),
            };
            let admission = self.admit(origin);
            if let Admission::Rejected { retry_in_ms } = admission {
                if last.is_some() {
                    return self.give_up(op, "circuit-open", plan.attempt - 1, last, cause);
                }
                self.emit("giveup", Fields::new().set("key", key_value(op)).set("reason", "circuit-open"));
                return Err(failure("circuit-open")
                    .set("key", key_value(op))
                    .set("attempts", plan.attempt - 1)
                    .set("origin", origin)
                    .set("retryAfterMs", retry_in_ms as f64)
                    .build());
            }
            if let Some(previous) = last.take() {
                discard(&previous);
            }
            if let Some(key) = &op.key {
                if let Some(live) = self.live.borrow_mut().get_mut(key) {
                    live.attempts = plan.attempt;
                }
            }
            self.emit(
                "attempt",
                Fields::new()
                    .set("key", key_value(op))
                    .set("method", op.method.as_str())
                    .set("url", op.url.as_str())
                    .set("attempt", plan.attempt),
            );
            let (outcome, response) = match send(self.fetch.as_ref(), op, plan.timeout_ms).await {
                Attempt::Aborted => {
                    if admission == Admission::Probe {
                        self.record(origin, None);
                    }
                    continue;
                }
                Attempt::Answered { outcome, response } => (outcome, Some(response)),
                Attempt::Failed { outcome, cause: c } => {
                    cause = c;
                    (outcome, None)
                }
            };
            self.record(origin, Some(&outcome));
            let decision = schedule.after(policy, &outcome, now_ms(), &mut self.rng.borrow_mut());
            match decision {
                Decision::Settle => {
                    let status = outcome.status().unwrap_or(0);
                    self.emit(
                        "settled",
                        Fields::new().set("key", key_value(op)).set("status", status).set("attempts", plan.attempt),
                    );
                    return Ok(response.map(JsValue::from).unwrap_or(JsValue::UNDEFINED));
                }
                Decision::GiveUp(give_up) => {
                    let reason = if give_up == GiveUp::Deadline && outcome == Outcome::Timeout { "deadline" } else { give_up.as_str() };
                    return self.give_up(op, reason, plan.attempt, response, cause);
                }
                Decision::Retry { delay_ms, reason, .. } => {
                    self.emit(
                        "retry",
                        Fields::new()
                            .set("key", key_value(op))
                            .set("attempt", plan.attempt)
                            .set("delayMs", delay_ms as f64)
                            .set("reason", reason.as_str())
                            .set_opt("status", outcome.status()),
                    );
                    last = response;
                    sleep(delay_ms, &op.signal, |wake| self.sleepers.borrow_mut().push(wake)).await;
                }
            }
        }
    }
}

fn key_value(op: &Prepared) -> JsValue {
    op.key.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}
