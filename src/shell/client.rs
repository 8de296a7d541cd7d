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
use crate::core::engine::{AttemptFailure, CallId, CallRequest, Engine, EngineConfig, Io, Now, RunInput};
use crate::core::key::{choose_key, is_valid_key, KeyChoice, KEY_RULE};
use crate::core::run::{is_valid_run_id, is_valid_step_name};
use super::report_js;
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
        let workflows = self.options.workflows.clone();
        let config = EngineConfig { options: self.options.clone(), persistent, seed, online, workflows };
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
            _ => return Err(invalid("idempotencyKey", KEY_RULE, &explicit_key)),
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

    // ---- workflows (src/core/engine/run.rs) ------------------------------

    /// `client.start(name, input, { id })`; `input`: its JSON, fingerprinted.
    #[wasm_bindgen(js_name = startRun)]
    pub fn start_run(&self, call: u32, id: JsValue, name: String, input: String, wall: f64, mono: f64) -> Result<(), JsValue> {
        let id = match id.as_string() {
            Some(id) if is_valid_run_id(&id) => id,
            _ => return Err(invalid("id", "1 to 200 visible ASCII characters", &id)),
        };
        if !self.options.workflows.contains(&name) {
            return Err(invalid("start(name)", "the name of a workflow given to createClient", &JsValue::from_str(&name)));
        }
        let nonce = self.host.get().map(|h| h.new_key()).unwrap_or_default();
        self.with_engine(now(wall, mono), |e, now| e.start_run(now, CallId(call), id, name, &input, nonce));
        Ok(())
    }

    /// Every other workflow and result(key) event, through one export (each
    /// export costs its own glue): `text` is the run's id (the operation's
    /// key for Result and RemoteSettled), `name` the step's name, `index`
    /// the step's index (a status for RemoteSettled, whose attempts come as
    /// `call`), `flag` a step's undo or an undo's success.
    #[wasm_bindgen(js_name = runEvent)]
    #[allow(clippy::too_many_arguments)]
    pub fn run_event(
        &self,
        event: RunEvent,
        call: u32,
        text: JsValue,
        index: u32,
        name: JsValue,
        flag: bool,
        wall: f64,
        mono: f64,
    ) -> Result<(), JsValue> {
        let id = text.as_string().unwrap_or_default();
        let (call_id, now) = (CallId(call), now(wall, mono));
        let step_name = || match name.as_string().filter(|n| is_valid_step_name(n)) {
            Some(name) => Ok(name),
            None => Err(invalid("step(name)", "1 to 100 visible ASCII characters", &name)),
        };
        let input = match event {
            RunEvent::Result if !is_valid_key(&id) => {
                return Err(invalid("result(key)", KEY_RULE, &text));
            }
            RunEvent::Changed => RunInput::Changed,
            RunEvent::StepReached => RunInput::Reached { index, name: step_name()?, undo: flag },
            RunEvent::StepDone => RunInput::StepDone { index, name: step_name()? },
            RunEvent::Failed => RunInput::Failed,
            RunEvent::UndoDone => RunInput::Undone { index, ok: flag },
            RunEvent::Returned => RunInput::Returned,
            // Questions, not inputs of a run.
            RunEvent::Result => {
                self.with_engine(now, |e, now| e.result(now, call_id, id));
                return Ok(());
            }
            RunEvent::RunResult => {
                self.with_engine(now, |e, now| e.run_result(now, call_id, id));
                return Ok(());
            }
            RunEvent::Runs => {
                self.with_engine(now, |e, now| e.runs(now, call_id));
                return Ok(());
            }
            RunEvent::Scan => {
                self.with_engine(now, |e, now| e.scan(now, call_id));
                return Ok(());
            }
            RunEvent::RemoteSettled => {
                let status = u16::try_from(index).unwrap_or(0);
                self.with_engine(now, |e, now| e.remote_settled(now, &id, status, call));
                return Ok(());
            }
        };
        self.with_engine(now, |e, now| e.run_input(now, &id, input));
        Ok(())
    }

    /// `client.run(id)`: what this client knows of it, or null.
    #[wasm_bindgen(js_name = runInfo)]
    pub fn run_info(&self, id: String) -> JsValue {
        let info = self.engine.borrow().as_ref().and_then(|e| e.run_info(&id));
        info.as_ref().map_or(JsValue::NULL, report_js::run_info)
    }
}

/// What `runEvent` reports (JS: `RunEvent.StepDone`, …).
#[wasm_bindgen]
#[derive(Clone, Copy)]
pub enum RunEvent {
    /// `run.result()`.
    RunResult,
    /// Another context wrote the run's journal.
    Changed,
    /// The workflow's code called `step(name, …)`.
    StepReached,
    /// A step returned; the host holds its journaled result.
    StepDone,
    /// A step or the workflow's code threw.
    Failed,
    UndoDone,
    /// The workflow returned; the host holds its value.
    Returned,
    /// `client.runs()`.
    Runs,
    /// createClient reads the store once: runs left by an earlier page.
    Scan,
    /// `client.result(key)`.
    Result,
    /// Another context settled operation `key` in the background.
    RemoteSettled,
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
