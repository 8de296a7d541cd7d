//! memoryStore()'s records ([`Memory`]) as a JS object, and the engine's
//! calls that reach into them directly: for this store, everything before
//! the handler (admission, fingerprint, claim, verdict) is one call into the
//! module, and everything after it (what to store, storing it) another. The
//! store's own three methods stay, for anyone who calls them as a store.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use crate::core::admission::{admit, Admission};
use crate::core::digest::request_claimant;
use crate::core::memory::Memory;
use crate::core::problem::Problem;
use crate::core::record::ClaimReply;
use crate::core::settle::{settle, Body, Settlement};
use crate::core::stored::header_lines;
use crate::core::verdict::{decide, Reply, Verdict};

use super::js::{millis, Fields};
use super::{problem, replay, Engine};

#[wasm_bindgen(js_name = MemoryRecords)]
pub struct MemoryRecords(Memory);

#[wasm_bindgen(js_class = MemoryRecords)]
impl MemoryRecords {
    /// `seed`: 16 random bytes (crypto.getRandomValues) for the hash of ids.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: &[u8]) -> MemoryRecords {
        let word = |at: usize| {
            let mut w = [0u8; 8];
            for (i, b) in w.iter_mut().enumerate() {
                *b = seed.get(at + i).copied().unwrap_or(0);
            }
            u64::from_le_bytes(w)
        };
        MemoryRecords(Memory::new([word(0), word(8)]))
    }

    /// The store's claim: `{ claimed: true }`, or the record as it is.
    pub fn claim(&mut self, id: &str, fingerprint: &str, owner: &str, now: f64, lease_ms: f64) -> JsValue {
        match self.0.claim(id, fingerprint, owner, millis(now), millis(lease_ms)) {
            ClaimReply::Claimed => Fields::new().set("claimed", true).build(),
            ClaimReply::Existing(r) => Fields::new()
                .set("claimed", false)
                .set("fingerprint", r.fingerprint.as_str())
                .set("until", r.until_ms as f64)
                .set("response", r.response.as_deref().map_or(JsValue::NULL, |b| Uint8Array::from(b).into()))
                .build(),
        }
    }

    pub fn complete(&mut self, id: &str, owner: &str, response: Vec<u8>, now: f64, ttl_ms: f64) -> bool {
        self.0.complete(id, owner, response, millis(now), millis(ttl_ms))
    }

    pub fn release(&mut self, id: &str, owner: &str) -> bool {
        self.0.release(id, owner)
    }

    /// Records still live at `now`.
    pub fn live(&self, now: f64) -> u32 {
        self.0.live(millis(now)) as u32
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    fn claim_in_with(
        &self,
        records: &mut MemoryRecords,
        method: &str,
        header: Option<&str>,
        path_and_query: &str,
        body: &[u8],
        scope: Option<&str>,
        owner: &str,
        now: f64,
    ) -> JsValue {
        let key = match admit(&self.policy, method, header) {
            Admission::PassThrough => return JsValue::UNDEFINED,
            Admission::Reject(p) => return problem(p),
            Admission::Claim(key) => key,
        };
        let mine = request_claimant(scope, method, path_and_query, body);
        let reply = records.0.claim(&key, &mine, owner, millis(now), self.policy.lock_timeout_ms);
        let existing = match &reply {
            // The key is usually the header as sent (the bare form): then `true`,
            // and no string made for JS to decode.
            ClaimReply::Claimed => return if header == Some(key.as_str()) { JsValue::TRUE } else { JsValue::from_str(&key) },
            ClaimReply::Existing(r) => r,
        };
        let seen = Reply::Existing { fingerprint: &existing.fingerprint, response: existing.response.as_deref() };
        match decide(seen, &mine) {
            // Never the verdict on a record someone else holds; were it, fail closed.
            Verdict::Run => problem(Problem::StoreUnavailable),
            Verdict::Answer(p) => problem(p),
            Verdict::Replay(stored) => {
                let answer = replay(&stored);
                let bytes = existing.response.as_deref().unwrap_or_default();
                let _ = js_sys::Reflect::set(&answer, &JsValue::from_str("response"), &Uint8Array::from(bytes));
                answer
            }
        }
    }
}

#[wasm_bindgen]
impl Engine {
    /// For memoryStore(), with the body held already: admission, fingerprint,
    /// claim and verdict in one call. `undefined`: pass through; `true` (the
    /// key is the header as sent) or a string (the key, unquoted): claimed
    /// for `owner`, run the handler; an object: a problem, or a replay (with
    /// `response`, the stored bytes).
    #[wasm_bindgen(js_name = claimIn)]
    #[allow(clippy::too_many_arguments)]
    pub fn claim_in(
        &self,
        records: &mut MemoryRecords,
        method: &str,
        header: Option<String>,
        path_and_query: &str,
        body: &[u8],
        scope: Option<String>,
        owner: &str,
        now: f64,
    ) -> JsValue {
        self.claim_in_with(records, method, header.as_deref(), path_and_query, body, scope.as_deref(), owner, now)
    }

    /// `claimIn` with the body as text: its UTF-8 bytes are the body.
    #[wasm_bindgen(js_name = claimInText)]
    #[allow(clippy::too_many_arguments)]
    pub fn claim_in_text(
        &self,
        records: &mut MemoryRecords,
        method: &str,
        header: Option<String>,
        path_and_query: &str,
        body: &str,
        scope: Option<String>,
        owner: &str,
        now: f64,
    ) -> JsValue {
        self.claim_in_with(records, method, header.as_deref(), path_and_query, body.as_bytes(), scope.as_deref(), owner, now)
    }

    /// For memoryStore(), after the handler: settle, then store the answer
    /// (or release the claim) in one call. True when the answer is stored.
    #[wasm_bindgen(js_name = finishIn)]
    #[allow(clippy::too_many_arguments)]
    pub fn finish_in(&self, records: &mut MemoryRecords, id: &str, owner: &str, status: u16, headers: &str, body: Option<Vec<u8>>, now: f64) -> bool {
        let body = match &body {
            Some(bytes) => Body::Complete(bytes),
            None => Body::TooLarge,
        };
        match settle(&self.policy, status, &header_lines(headers), body, None) {
            Settlement::Store(bytes) => records.0.complete(id, owner, bytes, millis(now), self.policy.ttl_ms),
            Settlement::Release => {
                records.0.release(id, owner);
                false
            }
        }
    }
}
