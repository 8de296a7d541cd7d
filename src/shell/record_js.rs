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
use crate::core::record::{key_of, DecodeError, Record, RECORD_SCHEMA};

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

/// A value read back from the store, as the engine takes it.
pub fn stored(v: &JsValue) -> Stored {
    let value = to_value(v, 4);
    match Record::decode(&value) {
        Ok(record) => Stored::Record(record),
        Err(error) => Stored::Unreadable { key: key_of(&value).map(str::to_string), error },
    }
}
