//! `Core`, what the JS entry holds: the options, the engine, and the JS
//! I/O layer it drives. Every method is an event for the engine, stamped
//! with both clocks by the caller (`Date.now()`, `performance.now()`), and
//! ends by performing what the engine asks (executor.rs).

#[allow(unused_imports)]
use crate::prelude::*;
use ::core::cell::{Cell, OnceCell, RefCell};

use wasm_bindgen::prelude::*;

use super::host::Host;
use super::js::header_pairs;
use super::options_js::{invalid, parse};
use super::record_js::stored;
use crate::core::engine::{AttemptFailure, CallId, CallRequest, Engine, EngineConfig, Io, Now};
use crate::core::key::{choose_key, is_valid_key, KeyChoice};
use crate::core::options::{Options, StoreChoice};

#[wasm_bindgen]
pub struct Core {
    options: Options,
    pub(super) engine: RefCell<Option<Engine>>,
    pub(super) host: OnceCell<Host>,
    /// The wake-up the host's timer is set for (-1: none).
    pub(super) armed: Cell<f64>,
}

fn now(wall: f64, mono: f64) -> Now {
    Now { wall, mono }
}

#[wasm_bindgen]
impl Core {
    /// Validates the options (a mistake throws, naming the option).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Core, JsValue> {
        Ok(Core {
            options: parse(&options)?,
            engine: RefCell::new(None),
            host: OnceCell::new(),
            armed: Cell::new(-1.0),
        })
    }

    /// Which store to open: 'auto', 'memory', 'indexeddb' or 'adapter'.
    #[wasm_bindgen(js_name = storeChoice)]
    pub fn store_choice(&self) -> String {
        match self.options.store {
            StoreChoice::Auto => "auto",
            StoreChoice::Memory => "memory",
            StoreChoice::IndexedDb => "indexeddb",
            StoreChoice::Adapter => "adapter",
        }
        .into()
    }

    /// The header that carries the key.
    #[wasm_bindgen(js_name = keyHeader)]
    pub fn key_header(&self) -> String {
        self.options.idempotency_header.clone()
    }

    /// The `seed` option, or the caller's random one (two u32 halves).
    pub fn start(&self, host: Host, persistent: bool, seed_hi: u32, seed_lo: u32, online: bool) {
        let seed = self.options.seed.unwrap_or(((seed_hi as u64) << 32) | seed_lo as u64);
        let config = EngineConfig { options: self.options.clone(), persistent, seed, online };
        *self.engine.borrow_mut() = Some(Engine::new(config));
        let _ = self.host.set(host);
    }

    #[wasm_bindgen(js_name = setListening)]
    pub fn set_listening(&self, mask: u32) {
        if let Some(engine) = self.engine.borrow_mut().as_mut() {
            engine.set_listening(mask);
        }
    }

    /// A caller's fetch, as the JS layer read it. Throws only for a bad
    /// `idempotencyKey` or `durable`; everything else is answered through
    /// the host (resolve / reject).
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &self,
        id: u32,
        method: String,
        url: String,
        explicit_key: JsValue,
        header_key: Option<String>,
        body: Option<Vec<u8>>,
        headers: &JsValue,
        durable: JsValue,
        aborted: bool,
        wall: f64,
        mono: f64,
    ) -> Result<(), JsValue> {
        let explicit = match explicit_key.as_string() {
            _ if explicit_key.is_undefined() => None,
            Some(k) if is_valid_key(&k) => Some(k),
            _ => return Err(invalid("idempotencyKey", "1 to 255 visible ASCII characters", &explicit_key)),
        };
        let durable = match durable.as_bool() {
            _ if durable.is_undefined() => None,
            Some(b) => Some(b),
            None => return Err(invalid("durable", "a boolean", &durable)),
        };
        let (key, fresh_key) = match choose_key(&method, explicit, header_key) {
            KeyChoice::Given(key) => (Some(key), false),
            KeyChoice::Fresh => (self.host.get().map(|h| h.new_key()), true),
            KeyChoice::None => (None, false),
        };
        let wants_headers = key.is_some() && self.engine.borrow().as_ref().is_some_and(|e| e.is_durable(durable));
        let headers = if wants_headers { header_pairs(headers) } else { Vec::new() };
        let request = CallRequest { call: CallId(id), method, url, key, fresh_key, body, headers, durable, aborted };
        self.with_engine(now(wall, mono), |e, now| e.call(now, request));
        Ok(())
    }

    pub fn answered(&self, io: u32, status: u16, retry_after: Option<String>, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.answered(now, Io(io), status, retry_after.as_deref()));
    }

    /// `before_replay`: the `beforeReplay` hook threw (nothing was sent).
    pub fn failed(&self, io: u32, before_replay: bool, wall: f64, mono: f64) {
        let failure = if before_replay { AttemptFailure::BeforeReplay } else { AttemptFailure::Network };
        self.with_engine(now(wall, mono), |e, now| e.failed(now, Io(io), failure));
    }

    pub fn got(&self, io: u32, value: JsValue, ok: bool, wall: f64, mono: f64) {
        let result = match ok {
            false => Err(()),
            true if value.is_undefined() || value.is_null() => Ok(None),
            true => Ok(Some(stored(&value))),
        };
        self.with_engine(now(wall, mono), |e, now| e.got(now, Io(io), result));
    }

    pub fn wrote(&self, io: u32, ok: bool, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.wrote(now, Io(io), if ok { Ok(()) } else { Err(()) }));
    }

    pub fn locked(&self, io: u32, granted: bool, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.locked(now, Io(io), granted));
    }

    /// `values`: the store's values (an array), when `ok`.
    pub fn listed(&self, io: u32, values: JsValue, ok: bool, wall: f64, mono: f64) {
        let result = match ok {
            true => Ok(js_sys::Array::from(&values).iter().map(|v| stored(&v)).collect()),
            false => Err(()),
        };
        self.with_engine(now(wall, mono), |e, now| e.listed(now, Io(io), result));
    }

    pub fn quarantined(&self, io: u32, moved: bool, ok: bool, wall: f64, mono: f64) {
        let result = if ok { Ok(moved) } else { Err(()) };
        self.with_engine(now(wall, mono), |e, now| e.quarantined(now, Io(io), result));
    }

    /// The host's timer fired.
    pub fn timer(&self, wall: f64, mono: f64) {
        self.armed.set(-1.0);
        self.with_engine(now(wall, mono), |e, now| e.handle_timeout(now));
    }

    pub fn abort(&self, call: u32, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.abort(now, CallId(call)));
    }

    pub fn pending(&self, call: u32, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.pending(now, CallId(call)));
    }

    pub fn online(&self, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.online(now));
    }

    pub fn offline(&self, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.offline(now));
    }

    /// Whether the engine believes the device is online.
    #[wasm_bindgen(js_name = isOnline)]
    pub fn is_online(&self) -> bool {
        self.engine.borrow().as_ref().map_or(true, |e| e.is_online())
    }

    /// Returns how many waits it ended.
    pub fn resume(&self, wall: f64, mono: f64) -> u32 {
        let mut woken = 0;
        self.with_engine(now(wall, mono), |e, now| woken = e.resume(now));
        woken
    }

    pub fn close(&self, wall: f64, mono: f64) {
        self.with_engine(now(wall, mono), |e, now| e.close(now));
    }
}

impl Core {
    /// Runs one event through the engine (the borrow ends before anything
    /// is performed: a listener may call back in), then performs.
    fn with_engine(&self, now: Now, f: impl FnOnce(&mut Engine, Now)) {
        if let Some(engine) = self.engine.borrow_mut().as_mut() {
            f(engine, now);
        }
        self.drive();
    }
}
