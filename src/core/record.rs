//! The stored form of a pending operation, and its validation on the way back.
//!
//! Storage outlives the code that wrote it: a record may come back truncated,
//! corrupted, from an older schema or from another program sharing the
//! database. Nothing is trusted: every field is checked, and the fingerprint
//! is recomputed so a record whose method, URL or body changed on disk is not
//! resent under its old key. A record that fails is quarantined, never
//! dropped and never a panic.
//!
//! A stored value is one byte string the core writes and reads (codec.rs):
//! its first byte says what it is (an operation's record here; a run's
//! journal, a kept answer), its second the layout version. The host stores
//! it as `{ key, data }` and indexes the key; it never reads the bytes.

#[allow(unused_imports)]
use crate::prelude::*;
use super::clock::Wall;
use super::codec::{Malformed, Reader, Writer};
use super::key::{fingerprint, is_header_name, is_valid_key};

/// What a stored value is: its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Operation = 1,
    /// A workflow run's journal (src/core/journal.rs).
    Run = 2,
    /// A settled operation's answer kept for `result(key)` (src/core/kept.rs).
    Result = 3,
}

/// The layout version every kind is written with. Bump it with a migration
/// in the decoder.
pub const LAYOUT: u8 = 1;

/// The kind of a stored value, checking its layout version.
pub fn kind_of(data: &[u8]) -> Result<Kind, DecodeError> {
    let kind = match data.first() {
        Some(1) => Kind::Operation,
        Some(2) => Kind::Run,
        Some(3) => Kind::Result,
        _ => return Err(DecodeError::NotARecord),
    };
    match data.get(1) {
        Some(&LAYOUT) => Ok(kind),
        _ => Err(DecodeError::UnknownSchema),
    }
}

/// A reader past the kind and version bytes.
pub(crate) fn body_of(data: &[u8]) -> Reader<'_> {
    Reader::new(data.get(2..).unwrap_or_default())
}

/// A writer with the kind and version bytes written.
pub(crate) fn writer_for(kind: Kind) -> Writer {
    let mut w = Writer::new();
    w.u8(kind as u8).u8(LAYOUT);
    w
}

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
    /// With `seq`, fixes the resend order per origin.
    pub created_at: Wall,
    /// Breaks ties between records created in the same millisecond.
    pub seq: f64,
    pub next_attempt_at: Wall,
    /// Before it the server asked not to be sent this again (Retry-After);
    /// `EPOCH` when it did not ask. A forced resend (`resume()`,
    /// `online`, a new client) skips our own backoff, never this.
    pub not_before: Wall,
    /// When a client decided the record expired (stored as 0 when none).
    /// Written before the expiry is reported, so the decision survives a
    /// crash and a clock set back: an expired record is never resent.
    pub expired_at: Option<Wall>,
    /// The last attempt got no answer (a timeout or a network error): its
    /// retry costs the retry budget's `timeout_cost` (budget.rs).
    pub no_answer: bool,
    /// The W3C trace context (`traceparent` form) of the first traced
    /// attempt: a resend by a later page links its span to it. Never a
    /// header: the host makes it from the span it started.
    pub trace: Option<String>,
}

/// A trace context as the host writes it: `00-<32 hex>-<16 hex>-<2 hex>`.
pub fn is_trace_context(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 55
        && b.iter().enumerate().all(|(i, c)| match i {
            2 | 35 | 52 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

crate::core::contract::names! {
    /// Which part of a stored value is missing or malformed (the host names it).
    Field {
        Key = "key",
        Method = "method",
        Url = "url",
        Headers = "headers",
        Body = "body",
        Fingerprint = "fingerprint",
        Attempts = "attempts",
        Times = "times",
        Id = "id",
        Name = "name",
        Nonce = "nonce",
        State = "state",
        Steps = "steps",
        Status = "status",
        Trace = "trace",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    NotARecord,
    UnknownSchema,
    Field(Field),
    /// Method, URL or body no longer match the fingerprint stored with them.
    FingerprintMismatch,
}

impl DecodeError {
    /// Its number for the host, which words it (pkg-template/errors.js):
    /// 0 not a record, 1 unknown schema, 2 fingerprint, 16 + a field.
    pub fn code(self) -> u8 {
        match self {
            DecodeError::NotARecord => 0,
            DecodeError::UnknownSchema => 1,
            DecodeError::FingerprintMismatch => 2,
            DecodeError::Field(f) => 16 + f as u8,
        }
    }
}

/// Reads one field: a short or malformed input is that field's error.
pub(crate) fn field<T>(read: Result<T, Malformed>, field: Field) -> Result<T, DecodeError> {
    read.map_err(|_| DecodeError::Field(field))
}

/// A key, checked.
pub(crate) fn key_field(r: &mut Reader, which: Field) -> Result<String, DecodeError> {
    match r.str() {
        Ok(k) if is_valid_key(k) => Ok(k.into()),
        _ => Err(DecodeError::Field(which)),
    }
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = writer_for(Kind::Operation);
        w.str(&self.key).str(&self.method).str(&self.url).u32(self.headers.len() as u32);
        for (name, value) in &self.headers {
            w.str(name).str(value);
        }
        match &self.body {
            Some(body) => w.u8(1).bytes(body),
            None => w.u8(0),
        };
        w.str(&self.fingerprint).u32(self.attempts);
        let expired_at = self.expired_at.unwrap_or(Wall(0.0)).0;
        for t in [self.created_at.0, self.seq, self.next_attempt_at.0, self.not_before.0, expired_at] {
            w.f64(t);
        }
        // A trailer only when there is something in it: a record without
        // one is byte for byte what versions before it wrote and read.
        if self.no_answer || self.trace.is_some() {
            w.bool(self.no_answer).opt_str(self.trace.as_deref());
        }
        w.bytes
    }

    pub fn decode(data: &[u8]) -> Result<Record, DecodeError> {
        if kind_of(data)? != Kind::Operation {
            return Err(DecodeError::NotARecord);
        }
        let r = &mut body_of(data);
        let key = key_field(r, Field::Key)?;
        let method = match r.str() {
            Ok(m) if is_header_name(m) => String::from(m),
            _ => return Err(DecodeError::Field(Field::Method)),
        };
        let url = match r.str() {
            Ok(u) if u.starts_with("http://") || u.starts_with("https://") => String::from(u),
            _ => return Err(DecodeError::Field(Field::Url)),
        };
        let count = field(r.u32(), Field::Headers)?;
        let mut headers = Vec::new();
        for _ in 0..count {
            match (r.str(), r.str()) {
                (Ok(name), Ok(value)) if is_header_name(name) => headers.push((name.into(), value.into())),
                _ => return Err(DecodeError::Field(Field::Headers)),
            }
        }
        let body = match field(r.u8(), Field::Body)? {
            0 => None,
            1 => Some(field(r.bytes(), Field::Body)?.to_vec()),
            _ => return Err(DecodeError::Field(Field::Body)),
        };
        let stored = field(r.string(), Field::Fingerprint)?;
        if stored != fingerprint(&method, &url, body.as_deref().unwrap_or_default()) {
            return Err(DecodeError::FingerprintMismatch);
        }
        let attempts = field(r.u32(), Field::Attempts)?;
        let mut times = [0.0; 5];
        for t in times.iter_mut() {
            *t = field(r.finite(), Field::Times)?;
        }
        let (mut no_answer, mut trace) = (false, None);
        if !r.is_empty() {
            no_answer = field(r.bool(), Field::Trace)?;
            trace = match field(r.opt_string(), Field::Trace)? {
                Some(t) if !is_trace_context(&t) => return Err(DecodeError::Field(Field::Trace)),
                t => t,
            };
            if !r.is_empty() {
                return Err(DecodeError::Field(Field::Trace));
            }
        }
        let [created_at, seq, next_attempt_at, not_before, expired_at] = times;
        Ok(Record {
            key,
            method,
            url,
            headers,
            body,
            fingerprint: stored,
            attempts,
            created_at: Wall(created_at),
            seq,
            next_attempt_at: Wall(next_attempt_at),
            not_before: Wall(not_before),
            expired_at: (expired_at != 0.0).then_some(Wall(expired_at)),
            no_answer,
            trace,
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

    pub fn record(key: &str, url: &str, body: Option<&[u8]>) -> Record {
        Record {
            key: key.into(),
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.map(<[u8]>::to_vec),
            fingerprint: fingerprint("POST", url, body.unwrap_or_default()),
            attempts: 2,
            created_at: Wall(1000.0),
            seq: 0.0,
            next_attempt_at: Wall(1500.0),
            not_before: Wall::EPOCH,
            expired_at: None,
            no_answer: false,
            trace: None,
        }
    }

    pub const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_record_reads_back() {
        let r = record("k1", "http://127.0.0.1/x", Some(b"hi"));
        assert_eq!(Record::decode(&r.encode()), Ok(r.clone()));
        let no_body = Record { body: None, fingerprint: fingerprint("POST", &r.url, b""), ..r.clone() };
        assert_eq!(Record::decode(&no_body.encode()), Ok(no_body));
        let traced = Record { no_answer: true, trace: Some(TRACE.into()), ..r.clone() };
        assert_eq!(Record::decode(&traced.encode()), Ok(traced));
        let failed = Record { no_answer: true, ..r };
        assert_eq!(Record::decode(&failed.encode()), Ok(failed));
    }

    #[test]
    fn rejects_each_kind_of_damage() {
        let good = record("k1", "http://127.0.0.1/x", Some(b"hi"));
        let with = |f: &dyn Fn(&mut Record)| {
            let mut r = good.clone();
            f(&mut r);
            r.encode()
        };
        let encoded = good.encode();
        let mut version = encoded.clone();
        version[1] = 9;
        let cases = [
            (vec![], DecodeError::NotARecord),
            (vec![7, 1], DecodeError::NotARecord),
            (version, DecodeError::UnknownSchema),
            (encoded[..encoded.len() - 1].to_vec(), DecodeError::Field(Field::Times)),
            ([&encoded[..], &[0]].concat(), DecodeError::Field(Field::Trace)),
            ([&encoded[..], &[0, 0, 0]].concat(), DecodeError::Field(Field::Trace)),
            (with(&|r| r.trace = Some("00-not-a-trace".into())), DecodeError::Field(Field::Trace)),
            (with(&|r| r.key = String::new()), DecodeError::Field(Field::Key)),
            (with(&|r| r.method = "BAD METHOD".into()), DecodeError::Field(Field::Method)),
            (with(&|r| r.url = "file:///etc/passwd".into()), DecodeError::Field(Field::Url)),
            (with(&|r| r.headers.push(("bad name".into(), "x".into()))), DecodeError::Field(Field::Headers)),
            (with(&|r| r.body = Some(b"ho".to_vec())), DecodeError::FingerprintMismatch),
            (with(&|r| r.created_at = Wall(f64::NAN)), DecodeError::Field(Field::Times)),
        ];
        for (bytes, expected) in cases {
            assert_eq!(Record::decode(&bytes), Err(expected), "{expected:?}");
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
