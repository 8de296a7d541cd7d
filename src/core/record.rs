//! The stored form of a pending operation, and its validation on the way back.
//!
//! Storage outlives the code that wrote it: a record may come back truncated,
//! corrupted, from an older schema or from another program sharing the
//! database. Nothing is trusted: every field is checked, and the fingerprint
//! is recomputed so a record whose method, URL or body changed on disk is not
//! resent under its old key. A record that fails is quarantined, never
//! dropped and never a panic.

#[allow(unused_imports)]
use crate::prelude::*;
use super::key::{fingerprint, is_header_name, is_valid_key};
use super::value::Value;

/// Version of the record layout. Bump it with a migration in `decode` (and
/// the wording in `DecodeError::describe`).
pub const RECORD_SCHEMA: u32 = 1;

#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub key: String,
    pub method: String,
    pub url: String,
    /// Without redacted headers and without the idempotency header (the key
    /// is stored on its own and set again on every send).
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub fingerprint: String,
    pub attempts: u32,
    /// Epoch ms. With `seq`, fixes the resend order per origin.
    pub created_at: f64,
    /// Breaks ties between records created in the same millisecond.
    pub seq: f64,
    pub next_attempt_at: f64,
    /// Epoch ms before which the server asked not to be sent this again
    /// (Retry-After); 0 when it did not ask. A forced resend (`resume()`,
    /// `online`, a new client) skips our own backoff, never this.
    pub not_before: f64,
    /// Epoch ms when a client decided the record expired (0: it has not).
    /// Written before the expiry is reported, so the decision survives a
    /// crash and a clock set back: an expired record is never resent.
    pub expired_at: f64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    NotARecord,
    UnknownSchema,
    /// The field that is missing or malformed.
    Field(&'static str),
    /// Method, URL or body no longer match the fingerprint stored with them.
    FingerprintMismatch,
}

impl DecodeError {
    /// In words, for reports. (Concatenation, not `format!`: core::fmt
    /// costs the .wasm several KB.)
    pub fn describe(&self) -> String {
        match self {
            DecodeError::NotARecord => "not a durafetch record".into(),
            DecodeError::UnknownSchema => "unknown record schema (this version reads schema 1)".into(),
            DecodeError::Field(f) => ["field '", f, "' is missing or malformed"].concat(),
            DecodeError::FingerprintMismatch => "method, URL or body do not match the stored fingerprint".into(),
        }
    }
}

/// Field `field` of a stored value, as a string (run journals read theirs the same way).
pub(crate) fn string(v: &Value, field: &'static str) -> Result<String, DecodeError> {
    match v.field(field) {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(DecodeError::Field(field)),
    }
}

pub(crate) fn number(v: &Value, field: &'static str) -> Result<f64, DecodeError> {
    match *v.field(field) {
        Value::Number(n) if n.is_finite() => Ok(n),
        _ => Err(DecodeError::Field(field)),
    }
}

/// Only the `key` of something that may not be a record: to name it in a report.
pub fn key_of(v: &Value) -> Option<&str> {
    match v.field("key") {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

impl Record {
    pub fn decode(v: &Value) -> Result<Record, DecodeError> {
        if !matches!(v, Value::Object(_)) {
            return Err(DecodeError::NotARecord);
        }
        match *v.field("v") {
            Value::Number(n) if n == RECORD_SCHEMA as f64 => {}
            Value::Undefined => return Err(DecodeError::NotARecord),
            _ => return Err(DecodeError::UnknownSchema),
        }
        let key = string(v, "key")?;
        if !is_valid_key(&key) {
            return Err(DecodeError::Field("key"));
        }
        let method = string(v, "method")?;
        if !is_header_name(&method) {
            return Err(DecodeError::Field("method"));
        }
        let url = string(v, "url")?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(DecodeError::Field("url"));
        }
        let Value::List(items) = v.field("headers") else {
            return Err(DecodeError::Field("headers"));
        };
        let mut headers = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::List(pair) => match pair.as_slice() {
                    [Value::Str(name), Value::Str(value)] if is_header_name(name) => {
                        headers.push((name.clone(), value.clone()))
                    }
                    _ => return Err(DecodeError::Field("headers")),
                },
                _ => return Err(DecodeError::Field("headers")),
            }
        }
        let body = match v.field("body") {
            Value::Bytes(b) => Some(b.clone()),
            Value::Null | Value::Undefined => None,
            _ => return Err(DecodeError::Field("body")),
        };
        let stored = string(v, "fingerprint")?;
        if stored != fingerprint(&method, &url, body.as_deref().unwrap_or_default()) {
            return Err(DecodeError::FingerprintMismatch);
        }
        let attempts = number(v, "attempts")?;
        if attempts < 0.0 || !super::num::is_whole(attempts) || attempts > u32::MAX as f64 {
            return Err(DecodeError::Field("attempts"));
        }
        Ok(Record {
            key,
            method,
            url,
            headers,
            body,
            fingerprint: stored,
            attempts: attempts as u32,
            created_at: number(v, "createdAt")?,
            seq: number(v, "seq")?,
            next_attempt_at: number(v, "nextAttemptAt")?,
            not_before: number(v, "notBefore")?,
            // Absent in records written before it existed: not expired.
            expired_at: match v.field("expiredAt") {
                Value::Undefined => 0.0,
                _ => number(v, "expiredAt")?,
            },
        })
    }
}

/// The headers that may be written to storage.
pub fn storable_headers(headers: &[(String, String)], redact: &[String], key_header: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            !redact.contains(&lower) && !lower.eq_ignore_ascii_case(key_header)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn encoded(key: &str, url: &str, body: Option<&[u8]>) -> Value {
        let fp = fingerprint("POST", url, body.unwrap_or_default());
        Value::Object(vec![
            ("v".into(), Value::Number(1.0)),
            ("key".into(), Value::Str(key.into())),
            ("method".into(), Value::Str("POST".into())),
            ("url".into(), Value::Str(url.into())),
            (
                "headers".into(),
                Value::List(vec![Value::List(vec![
                    Value::Str("content-type".into()),
                    Value::Str("text/plain".into()),
                ])]),
            ),
            ("body".into(), body.map_or(Value::Null, |b| Value::Bytes(b.to_vec()))),
            ("fingerprint".into(), Value::Str(fp)),
            ("attempts".into(), Value::Number(2.0)),
            ("createdAt".into(), Value::Number(1000.0)),
            ("seq".into(), Value::Number(0.0)),
            ("nextAttemptAt".into(), Value::Number(1500.0)),
            ("notBefore".into(), Value::Number(0.0)),
        ])
    }

    fn with(v: &Value, field: &str, value: Value) -> Value {
        let Value::Object(mut entries) = v.clone() else { unreachable!() };
        entries.retain(|(k, _)| k != field);
        if value != Value::Undefined {
            entries.push((field.into(), value));
        }
        Value::Object(entries)
    }

    #[test]
    fn decodes_a_valid_record() {
        let r = Record::decode(&encoded("k1", "http://127.0.0.1/x", Some(b"hi"))).unwrap();
        assert_eq!(r.key, "k1");
        assert_eq!(r.body.as_deref(), Some(&b"hi"[..]));
        assert_eq!(r.headers, [("content-type".to_string(), "text/plain".to_string())]);
        assert_eq!((r.attempts, r.created_at, r.next_attempt_at), (2, 1000.0, 1500.0));
    }

    #[test]
    fn rejects_each_kind_of_damage() {
        let good = encoded("k1", "http://127.0.0.1/x", Some(b"hi"));
        let cases = [
            (with(&good, "v", Value::Undefined), DecodeError::NotARecord),
            (with(&good, "v", Value::Number(2.0)), DecodeError::UnknownSchema),
            (with(&good, "key", Value::Str("".into())), DecodeError::Field("key")),
            (with(&good, "method", Value::Number(1.0)), DecodeError::Field("method")),
            (with(&good, "url", Value::Str("file:///etc/passwd".into())), DecodeError::Field("url")),
            (with(&good, "headers", Value::List(vec![Value::Str("x".into())])), DecodeError::Field("headers")),
            (with(&good, "body", Value::Str("hi".into())), DecodeError::Field("body")),
            (with(&good, "body", Value::Bytes(b"ho".to_vec())), DecodeError::FingerprintMismatch),
            (with(&good, "attempts", Value::Number(-1.0)), DecodeError::Field("attempts")),
            (with(&good, "createdAt", Value::Number(f64::NAN)), DecodeError::Field("createdAt")),
            (with(&good, "nextAttemptAt", Value::Undefined), DecodeError::Field("nextAttemptAt")),
            (Value::Str("junk".into()), DecodeError::NotARecord),
        ];
        for (value, expected) in cases {
            assert_eq!(Record::decode(&value), Err(expected.clone()), "{expected:?}");
            assert!(!expected.describe().is_empty());
        }
    }

    #[test]
    fn redacted_and_key_headers_are_not_stored() {
        let headers = vec![
            ("Authorization".to_string(), "Bearer s3cret".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Idempotency-Key".to_string(), "k".to_string()),
            ("X-Api-Key".to_string(), "k2".to_string()),
        ];
        let redact = vec!["authorization".to_string(), "x-api-key".to_string()];
        let kept = storable_headers(&headers, &redact, "Idempotency-Key");
        assert_eq!(kept, [("Content-Type".to_string(), "application/json".to_string())]);
    }
}
