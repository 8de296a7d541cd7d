//! Bytes in and out: the one encoding the core speaks with the outside.
//!
//! What the store holds (records, run journals, kept answers) and what
//! crosses between the core and its JS host (events in, actions out) are
//! byte strings written and read here: integers as LEB128, times as
//! little-endian f64, text as a length and UTF-8. The JS side
//! (pkg-template/codec.js) reads and writes the same. Reading never
//! panics: a short or malformed input is an error, whatever its bytes.

#[allow(unused_imports)]
use crate::prelude::*;

#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer { bytes: Vec::new() }
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes.push(v);
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(v as u8)
    }

    pub fn u32(&mut self, mut v: u32) -> &mut Self {
        while v >= 0x80 {
            self.bytes.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.u8(v as u8)
    }

    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32);
        self.bytes.extend_from_slice(v);
        self
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }

    /// A flag, then the text when there is one.
    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(s) => self.u8(1).str(s),
            None => self.u8(0),
        }
    }

    /// 0 for none, else the value plus one (a status or a small count).
    pub fn opt_u32(&mut self, v: Option<u32>) -> &mut Self {
        self.u32(v.map_or(0, |v| v.saturating_add(1)))
    }
}

/// The input ended early or held something malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn u8(&mut self) -> Result<u8, Malformed> {
        let (&first, rest) = self.rest.split_first().ok_or(Malformed)?;
        self.rest = rest;
        Ok(first)
    }

    pub fn bool(&mut self) -> Result<bool, Malformed> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Malformed),
        }
    }

    pub fn u32(&mut self) -> Result<u32, Malformed> {
        let mut v: u32 = 0;
        for shift in [0, 7, 14, 21, 28] {
            let b = self.u8()?;
            v |= ((b & 0x7F) as u32).checked_shl(shift).ok_or(Malformed)?;
            if b < 0x80 {
                // The fifth byte may carry 4 bits only.
                return if shift == 28 && b > 0x0F { Err(Malformed) } else { Ok(v) };
            }
        }
        Err(Malformed)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if n > self.rest.len() {
            return Err(Malformed);
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    pub fn f64(&mut self) -> Result<f64, Malformed> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(f64::from_le_bytes(b))
    }

    /// A time or a count: finite, or the input is malformed.
    pub fn finite(&mut self) -> Result<f64, Malformed> {
        let v = self.f64()?;
        if v.is_finite() { Ok(v) } else { Err(Malformed) }
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    pub fn str(&mut self) -> Result<&'a str, Malformed> {
        ::core::str::from_utf8(self.bytes()?).map_err(|_| Malformed)
    }

    pub fn string(&mut self) -> Result<String, Malformed> {
        self.str().map(String::from)
    }

    pub fn opt_string(&mut self) -> Result<Option<String>, Malformed> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err(Malformed),
        }
    }

    pub fn opt_u32(&mut self) -> Result<Option<u32>, Malformed> {
        Ok(self.u32()?.checked_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut w = Writer::new();
        w.u8(7).u32(0).u32(127).u32(128).u32(u32::MAX).f64(-1.5).str("héllo").bytes(&[1, 2]).opt_str(None).opt_str(Some("k"));
        w.opt_u32(None).opt_u32(Some(503)).bool(true);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!([r.u32(), r.u32(), r.u32(), r.u32()], [Ok(0), Ok(127), Ok(128), Ok(u32::MAX)]);
        assert_eq!(r.f64(), Ok(-1.5));
        assert_eq!(r.str(), Ok("héllo"));
        assert_eq!(r.bytes(), Ok(&[1u8, 2][..]));
        assert_eq!(r.opt_string(), Ok(None));
        assert_eq!(r.opt_string(), Ok(Some("k".into())));
        assert_eq!((r.opt_u32(), r.opt_u32(), r.bool()), (Ok(None), Ok(Some(503)), Ok(true)));
        assert!(r.is_empty());
        assert_eq!(r.u8(), Err(Malformed));
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert_eq!(Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]).u32(), Err(Malformed));
        assert_eq!(Reader::new(&[0x80]).u32(), Err(Malformed));
        assert_eq!(Reader::new(&[5, b'a']).str(), Err(Malformed));
        assert_eq!(Reader::new(&[2, 0xC3, 0x28]).str(), Err(Malformed));
        assert_eq!(Reader::new(&[1, 2, 3]).f64(), Err(Malformed));
        assert_eq!(Reader::new(&[2]).bool(), Err(Malformed));
        let nan = f64::NAN.to_le_bytes();
        assert_eq!(Reader::new(&nan).finite(), Err(Malformed));
    }
}
