//! The key grammar over arbitrary input: every header value is a key or a
//! typed error (never a panic: a panic would kill the wasm instance), and
//! every key reads back to itself from both of its header forms.

use durafetch_wire::key::{header_value, is_valid_key, parse_key_header, sf_string, KeyError, MAX_KEY_LEN};
use proptest::prelude::*;

/// Keys drawn from the grammar itself, and from near it.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[!#-~]{1,255}",
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "[\\\\{}']{1,8}[!#-~]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn every_key_reads_back_from_both_forms(k in key()) {
        prop_assert!(is_valid_key(&k));
        prop_assert_eq!(parse_key_header(header_value(&k)), Ok(k.clone()));
        prop_assert_eq!(parse_key_header(&sf_string(&k)), Ok(k.clone()));
        prop_assert_eq!(parse_key_header(&format!(" \t{} ", header_value(&k))), Ok(k));
    }

    #[test]
    fn any_header_value_is_a_key_or_a_typed_error(raw in "\\PC{0,300}|[ -~]{0,300}|\"[ -~]{0,300}\"?") {
        match parse_key_header(&raw) {
            Ok(k) => {
                prop_assert!(is_valid_key(&k) && k.len() <= MAX_KEY_LEN);
                // Whatever spelling it came in, its bare form names it too.
                prop_assert_eq!(parse_key_header(header_value(&k)), Ok(k.clone()));
            }
            Err(KeyError::Empty | KeyError::TooLong | KeyError::Malformed) => {}
        }
    }

    #[test]
    fn the_grammar_is_visible_ascii_without_quotes(s in "\\PC{0,300}|[!-~]{250,260}") {
        prop_assert_eq!(is_valid_key(&s), (1..=255).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"'));
    }
}
