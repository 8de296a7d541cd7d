//! Records to and from the plain JS objects that stores hold.
//!
//! `{ v, key, method, url, headers: [[name, value]], body: Uint8Array | null,
//!    fingerprint, attempts, createdAt, seq, nextAttemptAt, notBefore, expiredAt }`
//! Plain structured-clone data, so IndexedDB, postMessage and adapters can
//! all carry it.

#[allow(unused_imports)]
use crate::prelude::*;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use super::js::{to_value, Fields};
use crate::core::engine::Stored;
use crate::core::record::{DecodeError, Record, RECORD_SCHEMA};
use crate::core::run::{run_key, RunMeta};

pub fn encode(r: &Record) -> JsValue {
    let headers: Array = r
        .headers
        .iter()
        .map(|(n, v)| JsValue::from(Array::of2(&JsValue::from_str(n), &JsValue::from_str(v))))
        .collect();
    let body = r.body.as_deref().map_or(JsValue::NULL, |b| Uint8Array::from(b).into());
    Fields::new()
        .set("v", RECORD_SCHEMA)
        .set("key", r.key.as_str())
        .set("method", r.method.as_str())
        .set("url", r.url.as_str())
        .set("headers", headers)
        .set("body", body)
        .set("fingerprint", r.fingerprint.as_str())
        .set("attempts", r.attempts)
        .set("createdAt", r.created_at)
        .set("seq", r.seq)
        .set("nextAttemptAt", r.next_attempt_at)
        .set("notBefore", r.not_before)
        .set("expiredAt", r.expired_at)
        .build()
}

pub fn decode(v: &JsValue) -> Result<Record, DecodeError> {
    Record::decode(&to_value(v, 4))
}

/// A run's journal: `{ v, kind: 'run', key, id, name, nonce, fingerprint,
/// createdAt, state, failure, steps: [{ name, state, undo }] }`. The JS
/// layer adds the run's values (input, results, output, error) beside it.
pub fn encode_run(m: &RunMeta) -> JsValue {
    let steps: Array = m
        .steps
        .iter()
        .map(|s| Fields::new().set("name", s.name.as_str()).set("state", s.state.as_str()).set("undo", s.undo).build())
        .collect();
    let failure = match m.failure {
        Some(crate::core::run::RunFailure::Failed) => JsValue::from_str("failed"),
        Some(crate::core::run::RunFailure::Mismatch) => JsValue::from_str("mismatch"),
        None => JsValue::NULL,
    };
    Fields::new()
        .set("v", 1)
        .set("kind", "run")
        .set("key", run_key(&m.id))
        .set("id", m.id.as_str())
        .set("name", m.name.as_str())
        .set("nonce", m.nonce.as_str())
        .set("fingerprint", m.fingerprint.as_str())
        .set("createdAt", m.created_at)
        .set("state", m.state.as_str())
        .set("failure", failure)
        .set("steps", steps)
        .build()
}

/// A value read back from the store, as the engine takes it (of a run,
/// the JS layer hands over the journal without the application's values).
pub fn stored(v: &JsValue) -> Stored {
    Stored::decode(&to_value(v, 4))
}
