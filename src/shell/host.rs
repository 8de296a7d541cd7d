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
    #[wasm_bindgen(method)]
    pub fn pending(this: &Host, call: u32, ops: JsValue);
    #[wasm_bindgen(method, js_name = closeStore)]
    pub fn close_store(this: &Host);
    /// Wake the engine at this monotonic time (`performance.now()`); -1: never.
    #[wasm_bindgen(method)]
    pub fn timer(this: &Host, at: f64);
    /// A fresh idempotency key from the platform CSPRNG.
    #[wasm_bindgen(method, js_name = newKey)]
    pub fn new_key(this: &Host) -> String;
}
