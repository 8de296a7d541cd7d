//! Whatever a client or a store sends, the core answers with a decision or a
//! typed error, never a panic (a panic would kill the wasm instance and every
//! request it serves). Property tests over arbitrary inputs.

use durafetch_server::core::admission::{admit, Admission};
use durafetch_server::core::claimant::claimant;
use durafetch_server::core::options::Policy;
use durafetch_server::core::settle::{settle, Body, Settlement};
use durafetch_server::core::stored::{decode, header_lines};
use durafetch_server::core::verdict::{decide, Reply, Verdict};
use durafetch_wire::key::{is_valid_key, MAX_KEY_LEN};
use durafetch_wire::value::Value;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Undefined),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(Value::Number),
        (-10.0f64..1e7).prop_map(|n| Value::Number(n.round())),
        ".{0,12}".prop_map(Value::Str),
        Just(Value::Function),
        Just(Value::Other),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::vec(("[a-zA-Z]{1,14}", inner), 0..4).prop_map(Value::Object),
        ]
    })
}

const NAMES: [&str; 13] = [
    "store", "header", "methods", "required", "ttlMs", "lockTimeoutMs", "scope", "fingerprint", "maxBodyBytes",
    "maxRequestBytes", "storeTimeoutMs", "now", "other",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_options_parse_or_name_the_option(entries in prop::collection::vec((prop::sample::select(NAMES.to_vec()), value()), 0..6)) {
        let owned: Vec<(String, Value)> = entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        match Policy::parse(&owned) {
            Ok(p) => prop_assert!(!p.methods.is_empty() && p.ttl_ms >= 1 && p.lock_timeout_ms >= 1),
            Err(e) => prop_assert!(owned.iter().any(|(k, _)| *k == e.option) && !e.expected.is_empty()),
        }
    }

    #[test]
    fn any_stored_bytes_decode_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..200), head in "DF1 [0-9]{3} [BOX]\n([a-z-]{0,8}:[ -~]{0,8}\n){0,3}\n?") {
        let _ = decode(&bytes);
        let mut prefixed = head.into_bytes();
        prefixed.extend_from_slice(&bytes);
        if let Ok(r) = decode(&prefixed) {
            prop_assert!((200..=499).contains(&r.status) && r.body_offset <= prefixed.len());
        }
    }

    #[test]
    fn any_claim_reply_gives_a_verdict(fp in "[a-f0-9]{0,4}", scope in prop::option::of("[ab]"), theirs in "\\PC{0,40}|-:[a-f0-9]{0,4}", bytes in prop::option::of(prop::collection::vec(any::<u8>(), 0..64))) {
        let mine = claimant(scope.as_deref(), &fp);
        let v = decide(Reply::Existing { fingerprint: &theirs, response: bytes.as_deref() }, &mine);
        match v {
            Verdict::Run => prop_assert!(false, "an existing record never runs the handler"),
            Verdict::Answer(p) => prop_assert!([403, 409, 422, 500].contains(&p.status())),
            Verdict::Replay(r) => prop_assert!(mine == theirs && (200..=499).contains(&r.status)),
        }
    }

    #[test]
    fn any_answer_settles(status in any::<u16>(), headers in "\\PC{0,120}", body in prop::collection::vec(any::<u8>(), 0..100), limit in prop::option::of(0u64..200), max in 0u64..150) {
        let policy = Policy { max_body_bytes: max, ..Policy::default() };
        match settle(&policy, status, &header_lines(&headers), Body::Complete(&body), limit) {
            Settlement::Store(bytes) => {
                let r = decode(&bytes).expect("what settle stores, decode reads");
                prop_assert_eq!(r.status, status);
                prop_assert!(r.body_omitted || (bytes.len() - r.body_offset == body.len() && body.len() as u64 <= max));
            }
            Settlement::Release => prop_assert!(!(200..=499).contains(&status) || [408, 425, 429].contains(&status)),
        }
    }

    #[test]
    fn any_method_and_header_are_admitted_or_answered(method in "\\PC{0,10}", header in prop::option::of("\\PC{0,300}")) {
        match admit(&Policy::default(), &method, header.as_deref()) {
            Admission::Claim(key) => prop_assert!(is_valid_key(&key) && key.len() <= MAX_KEY_LEN),
            Admission::Reject(p) => prop_assert_eq!(p.status(), 400),
            Admission::PassThrough => {}
        }
    }
}
