//! The wasm-bindgen face of the core: one `Engine` per `idempotent()` /
//! `expressIdempotency()` call, holding the validated options. JS does the
//! I/O (the store, the handler, bodies) and asks the engine at each step.
//!
//! Nothing here throws on a request's path: a thrown JS exception costs a
//! wasm-bindgen table slot and tens of microseconds, and a panic would kill
//! the instance. Arguments are primitives and strings (headers travel as one
//! `name:value\n` string, not an array of pairs: every property read across
//! the boundary costs more than the whole decision). Answers are plain JS
//! values (`undefined`, `null`, a string, a small object) that the JS side
//! tells apart by type.

mod js;
mod memory;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::admission::{admit, Admission};
use crate::core::claimant::claimant;
use crate::core::digest::{request_claimant, request_fingerprint, text_fingerprint};
use crate::core::options::Policy;
use crate::core::problem::Problem;
use crate::core::settle::{settle, Body, Settlement};
use crate::core::stored::{header_lines, StoredResponse};
use crate::core::verdict::{decide, Reply, Verdict};

use js::{millis, option_entries, Fields};

#[wasm_bindgen]
pub struct Engine {
    pub(crate) policy: Policy,
}

pub(crate) fn problem(p: Problem) -> JsValue {
    Fields::new()
        .set("status", p.status())
        .set("body", p.body())
        .set_opt("retryAfter", p.retry_after())
        .build()
}

pub(crate) fn replay(stored: &StoredResponse) -> JsValue {
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

/// The 413 answer `{ status, body }`, for toNodeListener, which bounds the
/// body it buffers before any engine sees the request.
#[wasm_bindgen(js_name = requestTooLarge)]
pub fn request_too_large() -> JsValue {
    problem(Problem::RequestTooLarge)
}

impl Engine {
    fn begin_with(&self, method: &str, header: Option<&str>, path_and_query: &str, body: &[u8], scope: Option<&str>) -> JsValue {
        match admit(&self.policy, method, header) {
            Admission::PassThrough => JsValue::UNDEFINED,
            Admission::Reject(p) => problem(p),
            Admission::Claim(key) => {
                let mut out = request_claimant(scope, method, path_and_query, body);
                out.push(' ');
                out.push_str(&key);
                JsValue::from_str(&out)
            }
        }
    }
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

    #[wasm_bindgen(getter, js_name = maxRequestBytes)]
    pub fn max_request_bytes(&self) -> f64 {
        self.policy.max_request_bytes as f64
    }

    #[wasm_bindgen(getter, js_name = storeTimeoutMs)]
    pub fn store_timeout_ms(&self) -> f64 {
        self.policy.store_timeout_ms as f64
    }

    /// The lease of a claim, for the store to apply on its clock.
    #[wasm_bindgen(getter, js_name = leaseMs)]
    pub fn lease_ms(&self) -> f64 {
        self.policy.lock_timeout_ms as f64
    }

    /// How long an answer is kept, for the store to apply on its clock.
    #[wasm_bindgen(getter, js_name = ttlMs)]
    pub fn ttl_ms(&self) -> f64 {
        self.policy.ttl_ms as f64
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

    /// The 413 answer, for a body over maxRequestBytes.
    #[wasm_bindgen(js_name = tooLarge)]
    pub fn too_large(&self) -> JsValue {
        problem(Problem::RequestTooLarge)
    }

    /// This request's claimant (scope and fingerprint, as stored): method,
    /// path with query, and body bytes.
    pub fn claimant(&self, method: &str, path_and_query: &str, body: &[u8], scope: Option<String>) -> String {
        claimant(scope.as_deref(), &request_fingerprint(method, path_and_query, body))
    }

    /// `admit`, then `claimant`, in one crossing, for a host that holds the
    /// body already (toNodeListener's bytes, what Express's parser left):
    /// `undefined`: pass through; an object: a problem; a string: the
    /// claimant, a space, then the key (neither contains a space).
    pub fn begin(&self, method: &str, header: Option<String>, path_and_query: &str, body: &[u8], scope: Option<String>) -> JsValue {
        self.begin_with(method, header.as_deref(), path_and_query, body, scope.as_deref())
    }

    /// `begin` with the body as text: its UTF-8 bytes are the body.
    #[wasm_bindgen(js_name = beginText)]
    pub fn begin_text(&self, method: &str, header: Option<String>, path_and_query: &str, body: &str, scope: Option<String>) -> JsValue {
        self.begin_with(method, header.as_deref(), path_and_query, body.as_bytes(), scope.as_deref())
    }

    /// The claimant from the caller's own `fingerprint(request)` string.
    #[wasm_bindgen(js_name = customClaimant)]
    pub fn custom_claimant(&self, text: &str, scope: Option<String>) -> String {
        claimant(scope.as_deref(), &text_fingerprint(text))
    }

    /// What the store's claim resolved with (`claimed`, `fingerprint`,
    /// `response` read from it by JS; all `undefined` when it failed).
    /// `null`: run the handler; `{ status, body, retryAfter? }`: a problem;
    /// `{ status, headers, bodyOffset, bodyOmitted, replayed }`: a replay of
    /// the stored answer (its body is `response.subarray(bodyOffset)`).
    pub fn decide(&self, claimed: &JsValue, theirs: &JsValue, response: &JsValue, mine: &str) -> JsValue {
        let theirs = theirs.as_string();
        let bytes = response.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec);
        let reply = match (claimed.as_bool(), &theirs) {
            (Some(true), _) => Reply::Claimed,
            (Some(false), Some(theirs)) if bytes.is_some() || response.is_null() || response.is_undefined() => {
                Reply::Existing { fingerprint: theirs, response: bytes.as_deref() }
            }
            // Not a reply a store may give: treat as unreachable, fail closed.
            _ => Reply::Unreachable,
        };
        match decide(reply, mine) {
            Verdict::Run => JsValue::NULL,
            Verdict::Answer(p) => problem(p),
            Verdict::Replay(stored) => replay(&stored),
        }
    }

    /// After the handler answered: the bytes to store, or `undefined` to
    /// release the claim. `headers`: `name:value` lines; `body`: the
    /// buffered body, or `undefined` when it was longer than maxBodyBytes.
    pub fn settle(&self, status: u16, headers: &str, body: Option<Vec<u8>>, store_limit: Option<f64>) -> Option<Uint8Array> {
        let body = match &body {
            Some(bytes) => Body::Complete(bytes),
            None => Body::TooLarge,
        };
        match settle(&self.policy, status, &header_lines(headers), body, store_limit.map(millis)) {
            Settlement::Store(bytes) => Some(Uint8Array::from(bytes.as_slice())),
            Settlement::Release => None,
        }
    }
}
