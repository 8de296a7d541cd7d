//! Idempotency keys, request fingerprints, methods and origins.

#[allow(unused_imports)]
use crate::prelude::*;
/// RFC 9110 §9.2.1: these methods promise no effect, so they are resent
/// freely and carry no key. Every other method, custom ones included, gets one.
pub fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Which key a call carries: the caller's `idempotencyKey` (already
/// validated), else a valid key the caller set as the header, else a fresh
/// one for an unsafe method (`Fresh`: the host draws it from the CSPRNG).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChoice {
    Given(String),
    Fresh,
    None,
}

pub fn choose_key(method: &str, explicit: Option<String>, header: Option<String>) -> KeyChoice {
    match explicit.or(header.filter(|k| is_valid_key(k))) {
        Some(key) => KeyChoice::Given(key),
        None if is_safe_method(method) => KeyChoice::None,
        None => KeyChoice::Fresh,
    }
}

/// A UUID v4 (RFC 9562) from 16 bytes of the platform's CSPRNG.
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 15) as usize] as char);
    }
    out
}

/// A run id when `start()` is given none: 32 hex digits from 16 bytes of
/// the platform's CSPRNG.
#[cfg(feature = "workflows")]
pub fn random_run_id(b: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for byte in b {
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 15) as usize] as char);
    }
    out
}

/// A key goes verbatim into a header (bare: `durafetch_wire::key`
/// says why) and into storage; the server reads it back to the same key.
pub use durafetch_wire::key::{is_valid_key, KEY_RULE};

/// An RFC 9110 token.
pub use durafetch_wire::token::is_token as is_header_name;

/// What makes two requests "the same operation" for key reuse: method, URL
/// and body, hashed with 64-bit FNV-1a. It catches a key reused by mistake;
/// it is not a security boundary (the server checks its own fingerprint).
pub fn fingerprint(method: &str, url: &str, body: &[u8]) -> String {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= b as u64;
            hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
        }
    };
    eat(method.as_bytes());
    eat(&[0]);
    eat(url.as_bytes());
    eat(&[0]);
    eat(body);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..16).map(|i| HEX[(hash >> (60 - 4 * i)) as usize & 15] as char).collect()
}

/// `scheme://host[:port]` of an absolute URL: the unit a breaker guards.
pub fn origin_of(url: &str) -> &str {
    // Over bytes and with `get`: no panicking slice (whose formatting code
    // would cost the .wasm kilobytes). All positions found are ASCII.
    let bytes = url.as_bytes();
    let Some(authority_at) = bytes.windows(3).position(|w| w == b"://").map(|i| i + 3) else {
        return url;
    };
    let end = bytes
        .iter()
        .skip(authority_at)
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .map_or(url.len(), |i| authority_at + i);
    url.get(..end).unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert!(is_safe_method("GET") && is_safe_method("HEAD") && is_safe_method("OPTIONS"));
        for m in ["POST", "PUT", "PATCH", "DELETE", "PURGE"] {
            assert!(!is_safe_method(m));
        }
    }

    #[test]
    fn key_choice() {
        assert_eq!(choose_key("POST", Some("a".into()), Some("b".into())), KeyChoice::Given("a".into()));
        assert_eq!(choose_key("POST", None, Some("b".into())), KeyChoice::Given("b".into()));
        assert_eq!(choose_key("POST", None, Some("bad key".into())), KeyChoice::Fresh);
        assert_eq!(choose_key("GET", None, None), KeyChoice::None);
        assert_eq!(choose_key("GET", None, Some("k".into())), KeyChoice::Given("k".into()));
    }

    #[test]
    fn fresh_keys_are_uuid_v4() {
        let key = uuid_v4([0xAB; 16]);
        assert_eq!(key, "abababab-abab-4bab-abab-abababababab");
        assert!(is_valid_key(&key));
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("order-42"));
        assert!(is_valid_key(&"k".repeat(255)));
        for bad in ["", "has space", "tab\t", "caf\u{e9}", "a\"b", &"k".repeat(256)] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_differ_by_each_part() {
        let a = fingerprint("POST", "http://a/x", b"1");
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint("POST", "http://a/x", b"1"));
        assert_ne!(a, fingerprint("PUT", "http://a/x", b"1"));
        assert_ne!(a, fingerprint("POST", "http://a/y", b"1"));
        assert_ne!(a, fingerprint("POST", "http://a/x", b"2"));
        // The separators keep "POST"+"x" apart from "POSTx"+"".
        assert_ne!(fingerprint("POST", "x", b""), fingerprint("POSTx", "", b""));
    }

    #[test]
    fn origins() {
        assert_eq!(origin_of("http://127.0.0.1:8080/a/b?c"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("https://example.com"), "https://example.com");
        assert_eq!(origin_of("http://[::1]:9/x"), "http://[::1]:9");
        assert_eq!(origin_of("http://h?q"), "http://h");
        assert_eq!(origin_of("data:text/plain,hi"), "data:text/plain,hi");
    }
}
