//! Fingerprints and record ids.
//!
//! A fingerprint tells "the same operation resent" from "a key reused for
//! another request" (422). A record id puts each key in its caller's scope, so
//! one tenant's key never finds another tenant's answer. Both are SHA-256:
//! the scope is often a credential (the Authorization header), which must not
//! be stored in the clear nor be forgeable into a collision.

use sha2::{Digest, Sha256};

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// The default fingerprint: method, path with query, and body bytes. The
/// host is left out: behind a proxy or across instances it may differ for
/// the same operation.
pub fn request_fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.to_ascii_uppercase().as_bytes());
    h.update([0]);
    h.update(path_and_query.as_bytes());
    h.update([0]);
    h.update(body);
    hex(&h.finalize())
}

/// A caller's own `fingerprint(request)` string, hashed so that every store
/// sees the same fixed size.
pub fn text_fingerprint(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Where a key lives in the store: `<scope>:<key>`, the scope as 128 bits
/// of SHA-256 (or `-` when there is none). The key comes last, so no scope
/// and key pair can spell another's id.
pub fn record_id(scope: Option<&str>, key: &str) -> String {
    let mut id = match scope {
        Some(s) if !s.is_empty() => {
            let digest = Sha256::digest(s.as_bytes());
            hex(digest.get(..16).unwrap_or(&[]))
        }
        _ => String::from("-"),
    };
    id.push(':');
    id.push_str(key);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 test vector.
        assert_eq!(text_fingerprint("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn fingerprints_differ_by_each_part() {
        let a = request_fingerprint("POST", "/orders?x=1", b"{}");
        assert_eq!(a.len(), 64);
        assert_eq!(a, request_fingerprint("post", "/orders?x=1", b"{}"));
        assert_ne!(a, request_fingerprint("PUT", "/orders?x=1", b"{}"));
        assert_ne!(a, request_fingerprint("POST", "/orders?x=2", b"{}"));
        assert_ne!(a, request_fingerprint("POST", "/orders", b"{}"));
        assert_ne!(a, request_fingerprint("POST", "/orders?x=1", b"{ }"));
        // The separators keep "POST"+"/a" apart from "POST/"+"a".
        assert_ne!(request_fingerprint("POST", "/a", b""), request_fingerprint("POST/", "a", b""));
    }

    #[test]
    fn scopes_isolate_keys() {
        assert_eq!(record_id(None, "k"), "-:k");
        assert_eq!(record_id(Some(""), "k"), "-:k");
        let alice = record_id(Some("Bearer alice"), "k");
        let bob = record_id(Some("Bearer bob"), "k");
        assert_ne!(alice, bob);
        assert_eq!(alice.len(), 32 + 2);
        assert!(alice.ends_with(":k") && !alice.contains("alice"));
        assert_eq!(alice, record_id(Some("Bearer alice"), "k"));
    }
}
