//! The JS I/O layer the executor calls (pkg-template/io/host.js): each
//! method starts one piece of I/O, or hands something to the application,
//! and returns at once. Completions come back through `Core`'s methods.
//! Binding these few methods ourselves keeps the glue small: no web-sys.

#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// pkg-template/io/host.js `Host`.
    pub type Host;

    /// One attempt: the caller's request (`call`), or `record` rebuilt
    /// (then `beforeReplay` runs first). `key` goes in the key header.
    #[wasm_bindgen(method)]
    pub fn send(this: &Host, io: u32, call: u32, record: &JsValue, key: Option<String>);
    #[wasm_bindgen(method)]
    pub fn cancel(this: &Host, io: u32);
    #[wasm_bindgen(method)]
    pub fn resolve(this: &Host, call: u32, io: u32, last: bool);
    #[wasm_bindgen(method)]
    pub fn reject(this: &Host, call: u32, failure: JsValue);
    #[wasm_bindgen(method)]
    pub fn release(this: &Host, io: u32);
    #[wasm_bindgen(method)]
    pub fn emit(this: &Host, kind: &str, payload: JsValue);
    #[wasm_bindgen(method)]
    pub fn get(this: &Host, io: u32, key: &str);
    #[wasm_bindgen(method)]
    pub fn put(this: &Host, io: u32, record: JsValue);
    #[wasm_bindgen(method, js_name = delete)]
    pub fn delete(this: &Host, io: u32, key: &str);
    #[wasm_bindgen(method)]
    pub fn list(this: &Host, io: u32);
    #[wasm_bindgen(method)]
    pub fn quarantine(this: &Host, io: u32, listing: u32, index: u32, reason: &str);
    #[wasm_bindgen(method)]
    pub fn lock(this: &Host, io: u32, name: &str, wait: bool);
    #[wasm_bindgen(method)]
    pub fn unlock(this: &Host, name: &str);
    /// Resolve caller `call` with `value`.
    #[wasm_bindgen(method)]
    pub fn answer(this: &Host, call: u32, value: JsValue);
    #[wasm_bindgen(method, js_name = closeStore)]
    pub fn close_store(this: &Host);
    /// Write run `id`'s journal with its values (input, results, outcome).
    #[wasm_bindgen(method, js_name = putRun)]
    pub fn put_run(this: &Host, io: u32, id: &str, journal: JsValue);
    /// Run the workflow function of run `id`.
    #[wasm_bindgen(method)]
    pub fn execute(this: &Host, id: &str);
    /// What step `index` does: 'replay', 'run' (its keys from `key`) or 'mismatch'.
    #[wasm_bindgen(method, js_name = stepGo)]
    pub fn step_go(this: &Host, id: &str, index: u32, go: &str, key: Option<String>);
    #[wasm_bindgen(method, js_name = stepCommitted)]
    pub fn step_committed(this: &Host, id: &str, index: u32);
    #[wasm_bindgen(method)]
    pub fn undo(this: &Host, id: &str, index: u32, key: &str);
    /// Caller `call`'s `start()` or `run.result()`: `outcome` null for the
    /// former, else how the run ended.
    #[wasm_bindgen(method, js_name = runAnswer)]
    pub fn run_answer(this: &Host, call: u32, id: &str, outcome: JsValue);
    /// Keep the response held under `response` as operation `key`'s result.
    #[wasm_bindgen(method)]
    pub fn keep(this: &Host, io: u32, key: &str, status: u16, attempts: u32, response: u32);
    /// Resolve caller `call` with the kept result of `key` it read (or null).
    #[wasm_bindgen(method)]
    pub fn kept(this: &Host, call: u32, key: Option<String>);
    /// Wake the engine at this monotonic time (`performance.now()`); -1: never.
    #[wasm_bindgen(method)]
    pub fn timer(this: &Host, at: f64);
    /// A fresh idempotency key from the platform CSPRNG.
    #[wasm_bindgen(method, js_name = newKey)]
    pub fn new_key(this: &Host) -> String;
}
