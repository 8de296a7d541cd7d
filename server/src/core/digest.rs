//! Fingerprints and scope tags.
//!
//! A fingerprint tells "the same operation resent" from "a key reused for
//! another request" (422). A scope tag tells the caller who claimed a key
//! from any other ([`super::claimant`]). Both are SHA-256: the scope is often
//! a credential (the Authorization header), which must not be stored in the
//! clear nor be forgeable into a collision.

use sha2::{Digest, Sha256};

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

fn request_digest(method: &str, path_and_query: &str, body: &[u8]) -> impl AsRef<[u8]> {
    let mut h = Sha256::new();
    // The method upper-cased, without a copy of it.
    for chunk in method.as_bytes().chunks(16) {
        let mut upper = [0u8; 16];
        for (u, b) in upper.iter_mut().zip(chunk) {
            *u = b.to_ascii_uppercase();
        }
        h.update(&upper[..chunk.len()]);
    }
    h.update([0]);
    h.update(path_and_query.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize()
}

/// The default fingerprint: method, path with query, and body bytes. The
/// host is left out: behind a proxy or across instances it may differ for
/// the same operation.
pub fn request_fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    hex(request_digest(method, path_and_query, body).as_ref())
}

/// `scope_tag(scope)`, `:`, then `request_fingerprint(…)`, built in one
/// string: what [`super::claimant::claimant`] makes of them.
pub fn request_claimant(scope: Option<&str>, method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut out = String::with_capacity(32 + 1 + 64);
    match scope {
        Some(s) if !s.is_empty() => push_hex(&mut out, Sha256::digest(s.as_bytes()).get(..16).unwrap_or(&[])),
        _ => out.push('-'),
    }
    out.push(':');
    push_hex(&mut out, request_digest(method, path_and_query, body).as_ref());
    out
}

/// A caller's own `fingerprint(request)` string, hashed so that every store
/// sees the same fixed size.
pub fn text_fingerprint(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// A caller's scope as stored with its claim: 128 bits of SHA-256 in hex
/// (the scope is often a credential: never stored in the clear), or `-`
/// when there is none.
pub fn scope_tag(scope: Option<&str>) -> String {
    match scope {
        Some(s) if !s.is_empty() => {
            let digest = Sha256::digest(s.as_bytes());
            hex(digest.get(..16).unwrap_or(&[]))
        }
        _ => String::from("-"),
    }
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
    fn the_claimant_of_a_request_is_built_in_one_go() {
        use crate::core::claimant::claimant;
        for scope in [None, Some(""), Some("Bearer alice")] {
            for method in ["POST", "post", "M-SEARCH", "averyveryverylongmethodname"] {
                assert_eq!(
                    request_claimant(scope, method, "/orders?x=1", b"{}"),
                    claimant(scope, &request_fingerprint(method, "/orders?x=1", b"{}"))
                );
            }
        }
    }

    #[test]
    fn scope_tags() {
        assert_eq!(scope_tag(None), "-");
        assert_eq!(scope_tag(Some("")), "-");
        let alice = scope_tag(Some("Bearer alice"));
        assert_eq!(alice.len(), 32);
        assert_ne!(alice, scope_tag(Some("Bearer bob")));
        assert_eq!(alice, scope_tag(Some("Bearer alice")));
        assert!(alice.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
