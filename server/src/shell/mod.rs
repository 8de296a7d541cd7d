//! The wasm-bindgen face of the core: one `Engine` per `idempotent()` /
//! `expressIdempotency()` call, holding the validated options. JS does the
//! I/O (the store, the handler, bodies) and asks the engine at each step.
//!
//! Nothing here throws on a request's path: a thrown JS exception costs a
//! wasm-bindgen table slot and tens of microseconds, and a panic would kill
//! the instance. Answers are plain JS values (`undefined`, a string, a small
//! object) that the JS side tells apart by type.

mod js;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::admission::{admit, Admission};
use crate::core::digest::{record_id, request_fingerprint, text_fingerprint};
use crate::core::options::Policy;
use crate::core::problem::Problem;
use crate::core::settle::{settle, Body, Settlement};
use crate::core::stored::StoredResponse;
use crate::core::verdict::{decide, Reply, Verdict};

use js::{get, millis, option_entries, Fields};

#[wasm_bindgen]
pub struct Engine {
    policy: Policy,
}

fn problem(p: Problem) -> JsValue {
    Fields::new()
        .set("status", p.status())
        .set("body", p.body())
        .set_opt("retryAfter", p.retry_after())
        .build()
}

fn replay(stored: &StoredResponse) -> JsValue {
    let headers = Array::new();
    for (name, value) in &stored.headers {
        headers.push(&Array::of2(&JsValue::from_str(name), &JsValue::from_str(value)));
    }
    Fields::new()
        .set("status", stored.status)
        .set("headers", headers)
        .set("bodyOffset", stored.body_offset as u32)
        .set("bodyOmitted", stored.body_omitted)
        .set("replayed", true)
        .build()
}

#[wasm_bindgen]
impl Engine {
    /// Validates the options. Throws `{ option, expected }` (the JS side
    /// turns it into an IdempotencyError naming the option).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<Engine, JsValue> {
        match Policy::parse(&option_entries(options)) {
            Ok(policy) => Ok(Engine { policy }),
            Err(e) => Err(Fields::new().set("option", e.option).set("expected", e.expected).build()),
        }
    }

    /// The key header's name, lower-case.
    #[wasm_bindgen(getter)]
    pub fn header(&self) -> String {
        self.policy.header.clone()
    }

    #[wasm_bindgen(getter, js_name = maxBodyBytes)]
    pub fn max_body_bytes(&self) -> f64 {
        self.policy.max_body_bytes as f64
    }

    #[wasm_bindgen(getter, js_name = storeTimeoutMs)]
    pub fn store_timeout_ms(&self) -> f64 {
        self.policy.store_timeout_ms as f64
    }

    /// `undefined`: pass through; a string: the key to claim; an object
    /// `{ status, body, retryAfter? }`: answer with this problem.
    pub fn admit(&self, method: &str, header: Option<String>) -> JsValue {
        match admit(&self.policy, method, header.as_deref()) {
            Admission::PassThrough => JsValue::UNDEFINED,
            Admission::Claim(key) => JsValue::from_str(&key),
            Admission::Reject(p) => problem(p),
        }
    }

    pub fn fingerprint(&self, method: &str, path_and_query: &str, body: &[u8]) -> String {
        request_fingerprint(method, path_and_query, body)
    }

    #[wasm_bindgen(js_name = textFingerprint)]
    pub fn text_fingerprint(&self, text: &str) -> String {
        text_fingerprint(text)
    }

    #[wasm_bindgen(js_name = recordId)]
    pub fn record_id(&self, scope: Option<String>, key: &str) -> String {
        record_id(scope.as_deref(), key)
    }

    #[wasm_bindgen(js_name = leaseUntil)]
    pub fn lease_until(&self, now_ms: f64) -> f64 {
        self.policy.lease_until(millis(now_ms)) as f64
    }

    #[wasm_bindgen(js_name = answerUntil)]
    pub fn answer_until(&self, now_ms: f64) -> f64 {
        self.policy.answer_until(millis(now_ms)) as f64
    }

    /// `reply`: what the store's claim resolved with, or `undefined` when it
    /// failed. `null`: run the handler; `{ status, body, retryAfter? }`: a
    /// problem; `{ status, headers, bodyOffset, bodyOmitted, replayed }`: a
    /// replay of the stored answer (its body is `response.subarray(bodyOffset)`).
    pub fn decide(&self, reply: &JsValue, fingerprint: &str) -> JsValue {
        let claimed = get(reply, "claimed");
        let theirs = get(reply, "fingerprint").as_string();
        let response = get(reply, "response");
        let bytes = response.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec);
        let reply = match (claimed.as_bool(), &theirs) {
            (Some(true), _) => Reply::Claimed,
            (Some(false), Some(theirs)) if bytes.is_some() || response.is_null() || response.is_undefined() => {
                Reply::Existing { fingerprint: theirs, response: bytes.as_deref() }
            }
            // Not a reply a store may give: treat as unreachable, fail closed.
            _ => Reply::Unreachable,
        };
        match decide(reply, fingerprint) {
            Verdict::Run => JsValue::NULL,
            Verdict::Answer(p) => problem(p),
            Verdict::Replay(stored) => replay(&stored),
        }
    }

    /// After the handler answered: the bytes to store, or `undefined` to
    /// release the claim. `headers`: `[name, value]` pairs; `body`: the
    /// buffered body, or `undefined` when it was longer than maxBodyBytes.
    pub fn settle(&self, status: u16, headers: &Array, body: Option<Vec<u8>>, store_limit: Option<f64>) -> Option<Uint8Array> {
        let pairs: Vec<(String, String)> = headers
            .iter()
            .filter_map(|pair| Some((get(&pair, "0").as_string()?, get(&pair, "1").as_string()?)))
            .collect();
        let body = match &body {
            Some(bytes) => Body::Complete(bytes),
            None => Body::TooLarge,
        };
        match settle(&self.policy, status, &pairs, body, store_limit.map(millis)) {
            Settlement::Store(bytes) => Some(Uint8Array::from(bytes.as_slice())),
            Settlement::Release => None,
        }
    }
}
