//! A settled operation's answer kept for a later `client.result(key)`: the
//! core's part of it (which key, its status, when it settled). The host
//! keeps the response's headers and body beside these bytes.

#[allow(unused_imports)]
use crate::prelude::*;

use super::clock::Wall;
use super::record::{body_of, field, key_field, kind_of, writer_for, DecodeError, Field, Kind};

/// A resumed operation's answer, kept for `client.result(key)` (nobody
/// else received it) until read once or past the TTL.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptResult {
    pub key: String,
    pub status: u16,
    pub settled_at: Wall,
}

impl KeptResult {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = writer_for(Kind::Result);
        w.str(&self.key).u32(self.status as u32).f64(self.settled_at.0);
        w.bytes
    }

    pub fn decode(data: &[u8]) -> Result<KeptResult, DecodeError> {
        if kind_of(data)? != Kind::Result {
            return Err(DecodeError::NotARecord);
        }
        let r = &mut body_of(data);
        let key = key_field(r, Field::Key)?;
        let status = match r.u32() {
            Ok(s @ 100..=599) => s as u16,
            _ => return Err(DecodeError::Field(Field::Status)),
        };
        let settled_at = Wall(field(r.finite(), Field::Times)?);
        Ok(KeptResult { key, status, settled_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_answer_reads_back() {
        let kept = KeptResult { key: "k".into(), status: 201, settled_at: Wall(5.0) };
        assert_eq!(KeptResult::decode(&kept.encode()), Ok(kept.clone()));
        let bad = KeptResult { status: 42, ..kept };
        assert_eq!(KeptResult::decode(&bad.encode()), Err(DecodeError::Field(Field::Status)));
    }
}
