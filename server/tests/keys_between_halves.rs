//! The two halves of one package agree on what a key is: every key the
//! client would send (its own `idempotencyKey` check, a key taken from the
//! caller's header, the UUIDs it draws) is admitted by the server as that
//! same key, from the header form the client sends (bare) and from the one
//! the draft asks for (an sf-string). And what the server admits, the client
//! accepts as a key. The client crate is compiled natively here; nothing is
//! copied between the two.

use durafetch::core::key::{choose_key, is_valid_key as client_accepts, KeyChoice};
use durafetch_server::core::admission::{admit, Admission};
use durafetch_server::core::options::Policy;
use durafetch_wire::key::{header_value, sf_string};
use proptest::prelude::*;

/// What a caller might hand the client as a key: anything printable, keys
/// near the limits, and the characters that need care in a header.
fn candidate() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[ -~]{0,300}",
        "[!-~]{250,260}",
        "[\"\\\\ a-z]{1,12}",
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    ]
}

fn server_key(header: &str) -> Option<String> {
    match admit(&Policy::default(), "POST", Some(header)) {
        Admission::Claim(key) => Some(key),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn every_client_key_is_the_same_key_on_the_server(explicit in prop::option::of(candidate()), header in prop::option::of(candidate())) {
        // The client's own decision: a caller's idempotencyKey (refused unless
        // valid), else a valid key found in the caller's header, else a fresh UUID.
        let explicit = explicit.filter(|k| client_accepts(k));
        if let KeyChoice::Given(key) = choose_key("POST", explicit, header) {
            prop_assert_eq!(server_key(header_value(&key)), Some(key.clone()), "the bare form the client sends");
            prop_assert_eq!(server_key(&sf_string(&key)), Some(key.clone()), "the draft's sf-string form");
        }
    }

    #[test]
    fn what_the_server_admits_the_client_accepts(raw in candidate()) {
        if let Some(key) = server_key(&raw) {
            prop_assert!(client_accepts(&key), "{:?} admitted from {:?}", key, raw);
        }
    }
}

#[test]
fn the_cases_the_issue_found() {
    // `a"b` was a client key the server refused; `"x"` and `x` were two
    // client keys and one server key. Neither is a key now, on either side.
    assert!(!client_accepts("a\"b") && server_key("a\"b").is_none());
    assert!(!client_accepts("\"x\""));
    assert_eq!(server_key("\"x\""), Some("x".into()), "the quoted form of x");
    assert_eq!(server_key("x"), Some("x".into()));
    let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
    assert!(client_accepts(uuid));
    assert_eq!(server_key(uuid).as_deref(), Some(uuid));
}
