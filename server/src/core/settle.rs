//! After the handler: store its answer, or give the key back.
//!
//! Stored: 2xx, 3xx and 4xx answers, which a resend would get again anyway
//! (Stripe saves every result of a request that started executing). Released:
//! 5xx, a thrown handler (the shell never gets here), and the 4xx that mean
//! "not processed, come back later" (408, 425, 429): replaying those for a
//! day would turn a blip into a permanent failure, and the durafetch client
//! resends them. A released key runs the handler again on the next resend.

use super::options::Policy;
use super::stored::{encode, storable_headers};

/// The handler's body as the shell read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    Complete(&'a [u8]),
    /// Longer than maxBodyBytes: streamed to the caller, not buffered.
    TooLarge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Store these bytes as the key's answer.
    Store(Vec<u8>),
    Release,
}

pub fn is_stored_status(status: u16) -> bool {
    (200..=499).contains(&status) && !matches!(status, 408 | 425 | 429)
}

/// `store_limit`: the largest value the store can hold (Deno KV 64 KiB, a
/// Durable Object 128 KiB), when it has one.
pub fn settle(policy: &Policy, status: u16, headers: &[(&str, &str)], body: Body, store_limit: Option<u64>) -> Settlement {
    if !is_stored_status(status) {
        return Settlement::Release;
    }
    let fits = |bytes: &Vec<u8>| store_limit.map_or(true, |limit| bytes.len() as u64 <= limit);
    if let Body::Complete(bytes) = body {
        if bytes.len() as u64 <= policy.max_body_bytes {
            let full = encode(status, &storable_headers(headers, true), Some(bytes));
            if fits(&full) {
                return Settlement::Store(full);
            }
        }
    }
    // Too large to keep: the effect happened, so the key must still say so.
    // A replay gets the status and headers with an empty body.
    let head = encode(status, &storable_headers(headers, false), None);
    if fits(&head) {
        Settlement::Store(head)
    } else {
        Settlement::Store(encode(status, &[], None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stored::decode;

    fn h<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        pairs.to_vec()
    }

    fn stored(s: Settlement) -> Vec<u8> {
        match s {
            Settlement::Store(bytes) => bytes,
            Settlement::Release => panic!("expected Store"),
        }
    }

    #[test]
    fn which_statuses_are_stored() {
        let p = Policy::default();
        for status in [200, 201, 204, 303, 400, 402, 404, 409, 410, 422] {
            assert!(matches!(settle(&p, status, &[], Body::Complete(b""), None), Settlement::Store(_)), "{status}");
        }
        for status in [408, 425, 429, 500, 502, 503, 504, 101, 600] {
            assert_eq!(settle(&p, status, &[], Body::Complete(b""), None), Settlement::Release, "{status}");
        }
    }

    #[test]
    fn bodies_over_max_body_bytes_are_omitted() {
        let p = Policy { max_body_bytes: 4, ..Policy::default() };
        let headers = h(&[("content-type", "text/plain"), ("location", "/a")]);
        let small = stored(settle(&p, 201, &headers, Body::Complete(b"1234"), None));
        let r = decode(&small).unwrap();
        assert_eq!((r.body_omitted, &small[r.body_offset..]), (false, &b"1234"[..]));

        for body in [Body::Complete(b"12345"), Body::TooLarge] {
            let big = stored(settle(&p, 201, &headers, body, None));
            let r = decode(&big).unwrap();
            assert!(r.body_omitted);
            assert_eq!(r.headers, [("location", "/a")]);
        }
    }

    #[test]
    fn a_store_limit_omits_the_body_then_the_headers() {
        let p = Policy::default();
        let long = "v".repeat(100);
        let headers = h(&[("x-long", &long)]);
        let full = stored(settle(&p, 200, &headers, Body::Complete(&[7; 50]), None));
        assert_eq!(full.len(), 10 + 108 + 1 + 50); // "DF1 200 B\n", "x-long:v…\n", "\n", body
        let limit = Some(full.len() as u64 - 1);
        let head = stored(settle(&p, 200, &headers, Body::Complete(&[7; 50]), limit));
        assert!(decode(&head).unwrap().body_omitted);
        assert_eq!(decode(&head).unwrap().headers.len(), 1);
        let bare = stored(settle(&p, 200, &headers, Body::Complete(&[7; 50]), Some(20)));
        assert_eq!(bare, b"DF1 200 O\n\n");
    }
}
