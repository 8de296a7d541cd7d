//! The client the JS entry wraps: its state, the calls it accepts, and how a
//! call's end becomes a result, events and (for durable calls) storage.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{AbortController, Response};

use super::errors::failure;
use super::idb;
use super::js::{adapter_entries, entries, get, now_ms, Fields};
use super::live::{key_value, RunEnd};
use super::locks::Locks;
use super::record_js::{decode, encode};
use super::request::{prepare, random_bytes, Prepared};
use super::small_map::SmallMap;
use super::store::Store;
use crate::core::breaker::{Admission, Breaker, BreakerState, Transition};
use crate::core::options::{Options, StoreChoice};
use crate::core::outbox::{after_resend, Resend};
use crate::core::outcome::Outcome;
use crate::core::record::{storable_headers, Record};
use crate::core::rng::SplitMix64;
use crate::core::value::Value;

/// Event types in the order of their bits in `setListening` (client.js
/// keeps the same list).
const EVENT_BITS: [&str; 7] = ["attempt", "retry", "giveup", "breaker", "settled", "queued", "store"];

/// The outbox database every client of an origin shares.
const DB_NAME: &str = "durafetch";

/// A keyed operation in flight here: later calls with its key join it, and
/// the drainer leaves it alone.
pub struct Live {
    pub fingerprint: String,
    pub method: String,
    pub url: String,
    pub created_at: f64,
    pub attempts: u32,
    pub joiners: Vec<(Function, Function)>,
}

pub struct Inner {
    pub options: Options,
    emit: Function,
    pub fetch: Option<Function>,
    pub before_replay: Option<Function>,
    pub rng: RefCell<SplitMix64>,
    breakers: RefCell<SmallMap<Breaker>>,
    pub live: RefCell<SmallMap<Live>>,
    pub sleepers: RefCell<Vec<Function>>,
    closed: Cell<bool>,
    pub store: Store,
    pub store_note: Option<String>,
    pub locks: Locks,
    pub draining: Cell<bool>,
    pub drain_again: Cell<bool>,
    /// A forced pass is on: each pending record is resent once without
    /// waiting for our own backoff (the network may be back). Keys already
    /// resent in this pass:
    pub drain_forced: Cell<bool>,
    pub forced_done: RefCell<SmallMap<()>>,
    pub drain_wake: RefCell<Vec<Function>>,
    /// Bit per event type that has listeners (see `EVENT_BITS`): payloads
    /// are built only for events someone listens to.
    listening: Cell<u32>,
    /// Aborts background resends on close.
    pub lifetime: AbortController,
    seq: Cell<f64>,
    pub reported: RefCell<SmallMap<()>>,
    online: RefCell<Option<Closure<dyn FnMut()>>>,
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


async fn open_store(choice: StoreChoice, options: &JsValue) -> Result<(Store, Option<String>), JsValue> {
    let memory = || Store::Memory(RefCell::new(SmallMap::default()));
    match choice {
        StoreChoice::Memory => Ok((memory(), None)),
        StoreChoice::Adapter => Ok((Store::Adapter(get(options, "store")), None)),
        StoreChoice::IndexedDb => Ok((Store::IndexedDb(idb::open(DB_NAME).await?), None)),
        StoreChoice::Auto => {
            if get(&js_sys::global(), "indexedDB").is_undefined() {
                return Ok((memory(), Some("indexedDB is not available in this runtime".into())));
            }
            match idb::open(DB_NAME).await {
                Ok(db) => Ok((Store::IndexedDb(db), None)),
                Err(e) => {
                    let why = get(&get(&e, "cause"), "message").as_string().unwrap_or_else(|| "it failed to open".into());
                    Ok((memory(), Some(["IndexedDB could not be opened: ", &why].concat())))
                }
            }
        }
    }
}

#[wasm_bindgen]
impl Client {
    /// Validates options, opens the store and resumes what it holds.
    /// `emit(type, payload)` delivers events to the JS listeners.
    pub async fn create(options: JsValue, emit: Function) -> Result<Client, JsValue> {
        let parsed = parse_options(&options)?;
        let seed = match parsed.seed {
            Some(seed) => seed,
            None => u64::from_le_bytes(random_bytes()?),
        };
        let (store, store_note) = open_store(parsed.store, &options).await?;
        let lifetime = AbortController::new().map_err(|_| {
            failure("unsupported-runtime").set("missing", "AbortController").build()
        })?;
        let inner = Rc::new(Inner {
            options: parsed,
            emit,
            fetch: get(&options, "fetch").dyn_into::<Function>().ok(),
            before_replay: get(&options, "beforeReplay").dyn_into::<Function>().ok(),
            rng: RefCell::new(SplitMix64::new(seed)),
            breakers: RefCell::new(SmallMap::default()),
            live: RefCell::new(SmallMap::default()),
            sleepers: RefCell::new(Vec::new()),
            closed: Cell::new(false),
            store,
            store_note,
            locks: Locks::default(),
            draining: Cell::new(false),
            drain_again: Cell::new(false),
            drain_forced: Cell::new(false),
            forced_done: RefCell::new(SmallMap::default()),
            drain_wake: RefCell::new(Vec::new()),
            listening: Cell::new(0),
            lifetime,
            seq: Cell::new(0.0),
            reported: RefCell::new(SmallMap::default()),
            online: RefCell::new(None),
        });
        Inner::listen_online(&inner);
        // The JS entry calls resume() on the next task, once the caller has
        // had a chance to subscribe to events.
        Ok(Client { inner })
    }

    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { inner.fetch(input, init).await })
    }

    /// Which event types have listeners: bit i is `EVENT_BITS[i]`.
    #[wasm_bindgen(js_name = setListening)]
    pub fn set_listening(&self, mask: u32) {
        self.inner.listening.set(mask);
    }

    /// `{ store, persistent, note }`: which store was chosen and why.
    #[wasm_bindgen(js_name = storeInfo)]
    pub fn store_info(&self) -> JsValue {
        Fields::new()
            .set("store", self.inner.store.name())
            .set("persistent", self.inner.store.is_persistent())
            .set_opt("note", self.inner.store_note.as_deref())
            .build()
    }

    /// Operations not yet settled: stored records and live keyed calls.
    pub fn pending(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { inner.pending().await })
    }

    /// Ends every wait and resends what is pending now (except where the
    /// server asked for a later time with Retry-After).
    pub fn resume(&self) -> u32 {
        let woken = self.inner.wake_all();
        self.inner.force_pass();
        woken as u32
    }

    /// No new calls; waiting calls end with kind 'closed'; stored operations
    /// stay stored for the next client.
    pub fn close(&self) {
        let inner = &self.inner;
        inner.closed.set(true);
        inner.lifetime.abort();
        if let Some(listener) = inner.online.borrow_mut().take() {
            let remove = get(&js_sys::global(), "removeEventListener");
            if let Ok(remove) = remove.dyn_into::<Function>() {
                let _ = remove.call2(&js_sys::global(), &JsValue::from_str("online"), listener.as_ref());
            }
        }
        inner.wake_all();
        for wake in inner.drain_wake.take() {
            let _ = wake.call0(&JsValue::NULL);
        }
        inner.store.close();
    }
}

impl Inner {
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    pub fn emit(&self, kind: &str, payload: impl FnOnce() -> Fields) {
        let bit = EVENT_BITS.iter().position(|k| *k == kind).map_or(0, |i| 1 << i);
        if self.listening.get() & bit != 0 {
            let _ = self.emit.call2(&JsValue::NULL, &JsValue::from_str(kind), &payload().build());
        }
    }

    pub fn emit_store_error(&self, error: JsValue) {
        self.emit("store", || Fields::new().set("type", "error").set("error", error));
    }

    fn listen_online(this: &Rc<Self>) {
        let add = get(&js_sys::global(), "addEventListener");
        let Ok(add) = add.dyn_into::<Function>() else {
            return;
        };
        let weak: Weak<Inner> = Rc::downgrade(this);
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.close_breakers();
                let _ = inner.wake_all();
                inner.force_pass();
            }
        });
        let _ = add.call2(&js_sys::global(), &JsValue::from_str("online"), listener.as_ref());
        *this.online.borrow_mut() = Some(listener);
    }

    pub fn wake_all(&self) -> usize {
        let sleepers = std::mem::take(&mut *self.sleepers.borrow_mut());
        for wake in &sleepers {
            let _ = wake.call0(&JsValue::NULL);
        }
        sleepers.len()
    }

    pub fn emit_breaker(&self, origin: &str, transition: Option<Transition>) {
        if let Some(t) = transition {
            self.emit("breaker", || Fields::new().set("origin", origin).set("state", t.as_str()));
        }
    }

    pub fn admit(&self, origin: &str) -> Admission {
        let Some(config) = self.options.breaker else {
            return Admission::Allowed;
        };
        let (admission, transition) = self
            .breakers
            .borrow_mut()
            .get_or_insert_with(origin, || Breaker::new(config))
            .admit(now_ms());
        self.emit_breaker(origin, transition);
        admission
    }

    /// Back online: failures while we were offline said nothing about the
    /// servers, so every breaker starts closed again.
    fn close_breakers(&self) {
        let open: Vec<String> = self
            .breakers
            .borrow()
            .iter()
            .filter(|(_, b)| !matches!(b.state(), BreakerState::Closed { .. }))
            .map(|(origin, _)| origin.to_string())
            .collect();
        self.breakers.borrow_mut().clear();
        for origin in open {
            self.emit_breaker(&origin, Some(Transition::Closed));
        }
    }

    /// `None`: an abandoned probe.
    pub fn record_breaker(&self, origin: &str, outcome: Option<&Outcome>) {
        // A network error while the device is offline is ours, not the server's.
        if outcome == Some(&Outcome::Network) && get(&get(&js_sys::global(), "navigator"), "onLine").as_bool() == Some(false) {
            return;
        }
        let mut breakers = self.breakers.borrow_mut();
        let Some(breaker) = breakers.get_mut(origin) else {
            return;
        };
        let transition = match outcome {
            None => {
                breaker.on_abandon();
                None
            }
            Some(o) if o.retry_reason(&self.options.policy.retry_on).is_some() => {
                breaker.on_failure(now_ms(), &mut self.rng.borrow_mut())
            }
            Some(_) => breaker.on_success(),
        };
        drop(breakers);
        self.emit_breaker(origin, transition);
    }

    pub fn set_live_attempts(&self, key: &str, attempts: u32) {
        if let Some(live) = self.live.borrow_mut().get_mut(key) {
            live.attempts = attempts;
        }
    }

    async fn fetch(self: Rc<Self>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
        if self.is_closed() {
            return Err(failure("closed").build());
        }
        let op = prepare(&input, &init, &self.options.idempotency_header).await?;
        let Some(key) = op.key.clone() else {
            let end = self.run(&op, None).await;
            return self.finish(&op, end);
        };
        if let Some(joined) = self.join(&key, &op)? {
            return JsFuture::from(joined).await;
        }
        let durable = op.durable.unwrap_or(self.store.is_persistent());
        let result = if durable {
            self.clone().run_durable(&op, &key).await
        } else {
            let end = self.run(&op, None).await;
            self.finish(&op, end)
        };
        self.end_live(&key, &result);
        result
    }

    /// Registers a keyed operation, or joins the one already running here
    /// with the same key. The same key for a different request is refused.
    pub fn join(&self, key: &str, op: &Prepared) -> Result<Option<Promise>, JsValue> {
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
            key,
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

    /// Removes the live entry and hands its result to every joiner (each
    /// gets its own copy of the Response).
    pub fn end_live(&self, key: &str, result: &Result<JsValue, JsValue>) {
        let Some(live) = self.live.borrow_mut().remove(key) else {
            return;
        };
        for (resolve, reject) in live.joiners {
            let _ = match result {
                Ok(value) => match value.dyn_ref::<Response>().map(|r| r.clone()) {
                    Some(Ok(copy)) => resolve.call1(&JsValue::NULL, &copy),
                    Some(Err(e)) => reject.call1(&JsValue::NULL, &e),
                    None => resolve.call1(&JsValue::NULL, value),
                },
                Err(e) => reject.call1(&JsValue::NULL, e),
            };
        }
    }

    /// A call that is not durable: its end is the caller's result.
    fn finish(&self, op: &Prepared, end: RunEnd) -> Result<JsValue, JsValue> {
        let key = key_value(op);
        let fail = |kind: &str, attempts: u32| {
            failure(kind).set("key", key.clone()).set("attempts", attempts).set("method", op.method.as_str()).set("url", op.url.as_str())
        };
        match end {
            RunEnd::Settled { response, attempts } => {
                self.emit_settled(&key, response.status(), attempts, None);
                Ok(response.into())
            }
            RunEnd::GaveUp { reason, attempts, last, cause, retry_in_ms, .. } => {
                let status = last.as_ref().map(|r| r.status());
                self.emit("giveup", || Fields::new().set("key", key.clone()).set("reason", reason).set("attempts", attempts).set_opt("status", status),
                );
                match last {
                    Some(response) => Ok(response.into()),
                    None if reason == "circuit-open" => Err(fail(reason, attempts)
                        .set("origin", crate::core::key::origin_of(&op.url))
                        .set("retryAfterMs", retry_in_ms as f64)
                        .build()),
                    None => Err(fail(reason, attempts).set("cause", cause).build()),
                }
            }
            RunEnd::Aborted { attempts, reason } => {
                self.emit("giveup", || Fields::new().set("key", key.clone()).set("reason", "aborted").set("attempts", attempts));
                Err(fail("aborted", attempts).set("cause", reason).build())
            }
            RunEnd::Closed { attempts } => Err(fail("closed", attempts).build()),
        }
    }

    pub fn emit_settled(&self, key: &JsValue, status: u16, attempts: u32, resumed: Option<&Response>) {
        self.emit("settled", || Fields::new()
                .set("key", key.clone())
                .set("status", status)
                .set("attempts", attempts)
                .set("resumed", resumed.is_some())
                .set_opt("response", resumed.cloned()),
        );
    }

    fn new_record(&self, op: &Prepared, key: &str) -> Record {
        let headers: Vec<(String, String)> = js_sys::try_iter(&op.headers)
            .ok()
            .flatten()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let pair = Array::from(&entry.ok()?);
                Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
            })
            .collect();
        let now = now_ms();
        let seq = self.seq.get();
        self.seq.set(seq + 1.0);
        Record {
            key: key.to_string(),
            method: op.method.clone(),
            url: op.url.clone(),
            headers: storable_headers(&headers, &self.options.redact_headers, &self.options.idempotency_header),
            body: op.body.as_ref().map(|b| b.to_vec()),
            fingerprint: op.fingerprint.clone(),
            attempts: 0,
            created_at: now,
            seq,
            next_attempt_at: now,
            not_before: 0.0,
            expired_at: 0.0,
        }
    }

    /// Persist, then send. The record is deleted only on a definitive
    /// answer; without one the call rejects with kind 'queued' and the
    /// record stays for the background resends.
    async fn run_durable(self: Rc<Self>, op: &Prepared, key: &str) -> Result<JsValue, JsValue> {
        let keyv = JsValue::from_str(key);
        let stored = self.store.get(key).await?;
        let record = match stored.as_ref().map(decode) {
            // Resubmitted after a reload with the caller's key: continue it here.
            Some(Ok(r)) if r.fingerprint == op.fingerprint => r,
            Some(Ok(_)) => return Err(failure("key-reuse").set("key", key).build()),
            Some(Err(e)) => {
                let cause = ["the stored record for this key is unreadable: ", &e.describe()].concat();
                return Err(failure("storage").set("action", "get").set("key", key).set("cause", cause).build());
            }
            None => {
                let r = self.new_record(op, key);
                self.store.put(&encode(&r), key).await.map_err(|e| with_field(with_field(e, "sent", false), "key", key))?;
                r
            }
        };
        let Some(lock) = self.locks.acquire(key, false).await else {
            // Another tab or worker is sending it right now; it stays stored.
            return Err(self.queued(op, key, 0, "in-flight-elsewhere", None, JsValue::UNDEFINED));
        };
        let record = RefCell::new(record);
        let end = self.run(op, Some(&record)).await;
        let result = match end {
            RunEnd::Settled { response, attempts } => {
                // Reported before the record goes: if the page dies in
                // between, the next one resends, the server replays, and
                // 'settled' comes again (at least once, never never).
                self.emit_settled(&keyv, response.status(), attempts, None);
                if let Err(e) = self.store.delete(key).await {
                    self.emit_store_error(e);
                }
                Ok(response.into())
            }
            RunEnd::GaveUp { reason, attempts, last, outcome, cause, retry_in_ms } => {
                let mut r = record.into_inner();
                r.attempts = r.attempts.max(attempts);
                (r.next_attempt_at, r.not_before) = match outcome {
                    _ if reason == "circuit-open" => (now_ms() + retry_in_ms as f64, 0.0),
                    Some(o) => match after_resend(&self.options.policy, r.attempts, &o, now_ms(), &mut self.rng.borrow_mut()) {
                        Resend::RetryAt { next_attempt_at, not_before, .. } => (next_attempt_at, not_before),
                        Resend::Settle => (now_ms(), 0.0),
                    },
                    None => (now_ms(), 0.0),
                };
                if let Err(e) = self.store.put(&encode(&r), key).await {
                    self.emit_store_error(e);
                }
                let status = last.as_ref().map(|l| l.status());
                if let Some(l) = &last {
                    super::request::discard(l);
                }
                Err(self.queued(op, key, attempts, reason, status, cause))
            }
            RunEnd::Aborted { attempts, reason } => {
                // The caller withdrew it: it must not be resent later.
                if let Err(e) = self.store.delete(key).await {
                    self.emit_store_error(e);
                }
                self.emit("giveup", || Fields::new().set("key", keyv.clone()).set("reason", "aborted").set("attempts", attempts));
                Err(failure("aborted").set("key", keyv).set("attempts", attempts).set("cause", reason).build())
            }
            RunEnd::Closed { attempts } => Err(self.queued(op, key, attempts, "closed", None, JsValue::UNDEFINED)),
        };
        drop(lock);
        // Only a call that stays queued gives the drainer work; kicking after
        // every success cost a read of the whole store per operation.
        if result.is_err() {
            self.kick();
        }
        result
    }

    fn queued(&self, op: &Prepared, key: &str, attempts: u32, reason: &str, status: Option<u16>, cause: JsValue) -> JsValue {
        self.emit("queued", || Fields::new().set("key", key).set("reason", reason).set("attempts", attempts).set_opt("status", status),
        );
        failure("queued")
            .set("key", key)
            .set("attempts", attempts)
            .set("reason", reason)
            .set_opt("status", status)
            .set("method", op.method.as_str())
            .set("url", op.url.as_str())
            .set("cause", cause)
            .build()
    }

    async fn pending(&self) -> Result<JsValue, JsValue> {
        let out = Array::new();
        let mut seen: SmallMap<()> = SmallMap::default();
        for value in self.store.list().await? {
            if let Ok(r) = decode(&value) {
                seen.insert(&r.key, ());
                out.push(
                    &Fields::new()
                        .set("key", r.key.as_str())
                        .set("method", r.method.as_str())
                        .set("url", r.url.as_str())
                        .set("attempts", r.attempts)
                        .set("createdAt", r.created_at)
                        .set("nextAttemptAt", r.next_attempt_at)
                        .set("durable", true)
                        .build(),
                );
            }
        }
        for (key, live) in self.live.borrow().iter().filter(|(k, _)| !seen.contains_key(k)) {
            out.push(
                &Fields::new()
                    .set("key", key)
                    .set("method", live.method.as_str())
                    .set("url", live.url.as_str())
                    .set("attempts", live.attempts)
                    .set("createdAt", live.created_at)
                    .set("durable", false)
                    .build(),
            );
        }
        Ok(out.into())
    }
}

fn with_field(error: JsValue, name: &str, value: impl Into<JsValue>) -> JsValue {
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str(name), &value.into());
    error
}
