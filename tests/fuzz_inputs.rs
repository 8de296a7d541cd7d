#![cfg(not(target_arch = "wasm32"))]
//! Issue 7, part 3: bad input never breaks the client. Property tests over
//! every parser and decoder of the pure core, and its arithmetic under any
//! configuration and clock: nothing panics (a panic kills the wasm
//! instance), invalid input is an `Err` naming the option or field, and
//! valid input round-trips. proptest shrinks any failure to a minimal case.

#[path = "sim/dates.rs"]
mod dates;
#[path = "sim/inputs.rs"]
mod inputs;

use durafetch::core::backoff::Backoff;
use durafetch::core::breaker::{Admission, Breaker, BreakerConfig, BreakerState};
use durafetch::core::clock::{Mono, Wall};
use durafetch::core::key::{fingerprint, is_header_name, is_valid_key, origin_of};
use durafetch::core::options::Options;
use durafetch::core::outbox::{after_resend, plan, Resend};
use durafetch::core::outcome::{Outcome, StatusSet};
use durafetch::core::codec::Writer;
use durafetch::core::record::{DecodeError, Field, Record};
use durafetch::shell::Client;
use durafetch::core::retry_after::parse_retry_after;
use durafetch::core::rng::SplitMix64;
use durafetch::core::schedule::{Decision, RetryPolicy, Schedule};
use durafetch::core::value::Value;
use proptest::prelude::*;

use inputs::{check_option, expected_options, name, number, option_entry, record, valid_entry, value};

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        (any::<u16>(), prop::option::of(any::<u64>())).prop_map(|(status, retry_after_ms)| Outcome::Response { status, retry_after_ms }),
        (prop::sample::select(vec![200u16, 201, 409, 422, 429, 503]), prop::option::of(0u64..100_000))
            .prop_map(|(status, retry_after_ms)| Outcome::Response { status, retry_after_ms }),
        Just(Outcome::Network),
        Just(Outcome::Timeout),
    ]
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    let statuses = prop::collection::vec(any::<u16>(), 0..8).prop_map(|s| StatusSet::of(&s));
    let retry_on = prop_oneof![Just(StatusSet::default()), statuses];
    (0u32..12, any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>(), retry_on).prop_map(|(max, base, cap, deadline, timeout, retry_on)| {
        RetryPolicy {
            max_attempts: max,
            backoff: Backoff { base_ms: base, cap_ms: cap },
            deadline_ms: deadline,
            attempt_timeout_ms: timeout,
            retry_on,
        }
    })
}

/// A value as pkg-template/client.js encodes options (src/shell/options.rs reads it).
fn encode_value(w: &mut Writer, v: &Value) {
    match v {
        Value::Undefined => w.u8(0),
        Value::Null => w.u8(1),
        Value::Bool(b) => w.u8(2 + *b as u8),
        Value::Number(n) => w.u8(4).f64(*n),
        Value::Str(s) => w.u8(5).str(s),
        Value::Function => w.u8(6),
        Value::List(items) => {
            w.u8(7).u32(items.len() as u32);
            items.iter().for_each(|i| encode_value(w, i));
            w
        }
        Value::Object(fields) => {
            w.u8(8).u32(fields.len() as u32);
            fields.iter().for_each(|(k, v)| encode_value(w.str(k), v));
            w
        }
        Value::Bytes(_) | Value::Other => w.u8(9),
    };
}

/// Which field of an encoded record byte `at` belongs to.
fn field_at(r: &Record, at: usize) -> Field {
    let mut w = Writer::new();
    w.u8(1).u8(1);
    let mut ends = vec![(w.bytes.len(), Field::Key)];
    let mut mark = |w: &Writer, f: Field| ends.push((w.bytes.len(), f));
    w.str(&r.key);
    mark(&w, Field::Key);
    w.str(&r.method);
    mark(&w, Field::Method);
    w.str(&r.url);
    mark(&w, Field::Url);
    w.u32(r.headers.len() as u32);
    for (n, v) in &r.headers {
        w.str(n).str(v);
    }
    mark(&w, Field::Headers);
    match &r.body {
        Some(b) => w.u8(1).bytes(b),
        None => w.u8(0),
    };
    mark(&w, Field::Body);
    w.str(&r.fingerprint);
    mark(&w, Field::Fingerprint);
    w.u32(r.attempts);
    mark(&w, Field::Attempts);
    w.bytes.extend_from_slice(&[0; 5 * 8]);
    mark(&w, Field::Times);
    ends.iter().skip(1).find(|(end, _)| at < *end).map_or(Field::Trace, |(_, f)| *f)
}

/// Where a record's optional trailer (no_answer, trace) starts, if it has one.
fn trailer_at(r: &Record) -> Option<usize> {
    let plain = Record { no_answer: false, trace: None, ..r.clone() };
    (r.no_answer || r.trace.is_some()).then(|| plain.encode().len())
}

#[derive(Clone, Debug)]
enum BreakerOp {
    Admit(f64),
    Success,
    Failure(f64),
    Abandon,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn options_accept_exactly_the_documented_values(entries in prop::collection::vec(option_entry(), 0..6)) {
        let first_bad = entries.iter().filter(|(_, v)| *v != Value::Undefined).find_map(|(n, v)| check_option(n, v).err());
        match (Options::parse(&entries), first_bad) {
            (Ok(_), None) => {}
            (Err(e), Some(path)) => {
                prop_assert_eq!(e.option, path);
                prop_assert!(!e.expected.as_str().is_empty());
            }
            (got, expected) => prop_assert!(false, "parse gave {:?}, the rules say {:?}", got, expected),
        }
    }

    #[test]
    fn valid_options_round_trip(entries in prop::collection::vec(valid_entry(), 0..8)) {
        prop_assert_eq!(Options::parse(&entries), Ok(expected_options(&entries)));
    }

    #[test]
    fn one_bad_option_among_good_ones_is_named(
        before in prop::collection::vec(valid_entry(), 0..4),
        bad in option_entry().prop_filter("invalid", |(n, v)| *v != Value::Undefined && check_option(n, v).is_err()),
        after in prop::collection::vec((name(), value()), 0..4),
    ) {
        let path = check_option(&bad.0, &bad.1).unwrap_err();
        let entries: Vec<_> = before.into_iter().chain([bad]).chain(after).collect();
        prop_assert_eq!(Options::parse(&entries).map_err(|e| e.option), Err(path));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn retry_after_never_panics_and_reads_delay_seconds(value in "\\PC{0,40}|[ \t]{0,2}[0-9]{1,25}[ \t]{0,2}", now in number()) {
        let got = parse_retry_after(&value, Wall(now));
        let trimmed = value.trim_matches(|c| c == ' ' || c == '\t');
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let seconds = trimmed.parse::<u64>().unwrap_or(u64::MAX);
            prop_assert_eq!(got, Some(seconds.saturating_mul(1000)));
        }
    }

    #[test]
    fn retry_after_dates_read_back_against_any_clock(at in 0u64..8_000_000_000_000, now in prop_oneof![number(), 0.0..8e12f64]) {
        let wait = parse_retry_after(&dates::http_date(at), Wall(now));
        let date = (at / 1000 * 1000) as f64;
        let expected = if (date - now).is_finite() && date - now > 0.0 { (date - now).ceil() as u64 } else { 0 };
        prop_assert_eq!(wait, Some(expected));
    }

    #[test]
    fn any_bytes_decode_without_panicking_and_what_decodes_round_trips(
        tail in prop::collection::vec(any::<u8>(), 0..96),
        head in prop::sample::select(vec![vec![], vec![1], vec![1, 1], vec![3, 1], vec![2, 1]]),
    ) {
        let bytes = [head, tail].concat();
        if let Ok(r) = Record::decode(&bytes) {
            prop_assert_eq!(Record::decode(&r.encode()), Ok(r));
        }
        let _ = durafetch::core::kept::KeptResult::decode(&bytes);
        #[cfg(feature = "workflows")]
        let _ = durafetch::core::journal::RunMeta::decode(&bytes);
    }

    #[test]
    fn valid_records_round_trip(r in record()) {
        prop_assert_eq!(Record::decode(&r.encode()), Ok(r));
    }

    #[test]
    fn a_cut_record_is_refused_naming_the_field_it_ends_in(r in record(), cut in any::<prop::sample::Index>()) {
        let bytes = r.encode();
        let at = 2 + cut.index(bytes.len() - 2);
        match Record::decode(&bytes[..at]) {
            Err(DecodeError::Field(f)) => prop_assert_eq!(f, field_at(&r, at)),
            // Cut inside the body or the text before it: what is left may
            // read on, then miss the fingerprint.
            Err(DecodeError::FingerprintMismatch) => prop_assert!(at < bytes.len()),
            // Cut right before its optional trailer: a record without one (its
            // trace link and what its retry costs are lost, nothing else).
            Ok(read) if Some(at) == trailer_at(&r) => prop_assert_eq!(read, Record { no_answer: false, trace: None, ..r.clone() }),
            other => prop_assert!(false, "cut at {} of {}: {:?}", at, bytes.len(), other),
        }
    }

    #[test]
    fn a_flipped_byte_is_refused_or_reads_as_a_valid_record(r in record(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = r.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        match Record::decode(&bytes) {
            Err(DecodeError::NotARecord) => prop_assert_eq!(i, 0),
            Err(DecodeError::UnknownSchema) => prop_assert_eq!(i, 1),
            Err(_) => {}
            // A changed count, time or header value is still a record; its
            // method, URL and body still match the fingerprint.
            Ok(decoded) => {
                prop_assert_eq!(&decoded.fingerprint, &durafetch::core::key::fingerprint(&decoded.method, &decoded.url, decoded.body.as_deref().unwrap_or_default()));
                prop_assert_eq!(Record::decode(&decoded.encode()), Ok(decoded));
            }
        }
    }

    #[test]
    fn the_shell_reads_any_options_as_the_core_parses_them(entries in prop::collection::vec(option_entry(), 0..6)) {
        let mut w = Writer::new();
        encode_value(&mut w, &Value::Object(entries.clone()));
        let mut out = Writer::new();
        let expected = Options::parse(&entries);
        prop_assert_eq!(Client::create(&w.bytes, &mut out).is_some(), expected.is_ok());
    }

    #[test]
    fn no_input_panics_the_shell(inputs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..16), ops in prop::collection::vec(0u8..30, 16)) {
        let mut out = Writer::new();
        let Some(mut client) = Client::create(&[8, 0], &mut out) else { return Err(TestCaseError::fail("defaults")) };
        let mut start = Writer::new();
        start.u8(0).f64(1.0).f64(1.0).bool(true).bool(true);
        start.bytes.extend_from_slice(&[7; 8]);
        client.input(&start.bytes, &mut out);
        for (input, op) in inputs.iter().zip(ops) {
            // A valid op and clocks, then anything: every field's reader must refuse, not panic.
            let mut w = Writer::new();
            w.u8(op).f64(1.0).f64(2.0);
            w.bytes.extend_from_slice(input);
            client.input(&w.bytes, &mut out);
            prop_assert!(out.bytes.first().is_some_and(|s| *s <= 2));
        }
    }

    #[test]
    fn keys_names_fingerprints_and_origins(s in "\\PC{0,300}|[!-~]{250,260}|https?://[^/?#]{0,12}[/?#]?\\PC{0,12}", body in prop::collection::vec(any::<u8>(), 0..32)) {
        prop_assert_eq!(is_valid_key(&s), (1..=255).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"'));
        let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        prop_assert_eq!(is_header_name(&s), !s.is_empty() && s.chars().all(tchar));
        let f = fingerprint(&s, &s, &body);
        prop_assert!(f.len() == 16 && f.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        prop_assert_eq!(&f, &fingerprint(&s, &s, &body));
        let origin = origin_of(&s);
        prop_assert!(s.starts_with(origin));
        prop_assert_eq!(origin_of(origin), origin);
        if let Some(at) = s.find("://") {
            prop_assert!(!origin[at + 3..].contains(['/', '?', '#']));
        }
    }

    #[test]
    fn backoff_stays_in_its_window(base in any::<u64>(), cap in any::<u64>(), seed in any::<u64>(), retries in prop::collection::vec(any::<u32>(), 1..20)) {
        let b = Backoff { base_ms: base, cap_ms: cap };
        let mut rng = SplitMix64::new(seed);
        prop_assert_eq!(b.ceiling_ms(0), base.min(cap));
        for n in retries.into_iter().chain([0, 63, 64, u32::MAX - 1]) {
            prop_assert!(b.ceiling_ms(n) <= cap);
            prop_assert!(b.ceiling_ms(n) <= b.ceiling_ms(n.saturating_add(1)));
            prop_assert!(b.delay_ms(n, &mut rng) <= b.ceiling_ms(n));
        }
    }

    #[test]
    fn schedules_obey_their_bounds_under_any_clock(p in policy(), steps in prop::collection::vec((outcome(), number(), number()), 0..16), seed in any::<u64>()) {
        let mut rng = SplitMix64::new(seed);
        let mut schedule = Schedule::new(Mono(steps.first().map_or(0.0, |s| s.1)));
        for (outcome, at, answered_at) in steps {
            let Ok(plan) = schedule.begin_attempt(&p, Mono(at)) else { break };
            prop_assert!(plan.attempt <= p.max_attempts && plan.timeout_ms <= p.attempt_timeout_ms);
            match schedule.after(&p, &outcome, Mono(answered_at), &mut rng) {
                Decision::Settle => prop_assert!(outcome.retry_reason(&p.retry_on).is_none()),
                Decision::Retry { delay_ms, server_asked: true, .. } => prop_assert_eq!(Some(delay_ms), match outcome { Outcome::Response { retry_after_ms, .. } => retry_after_ms, _ => None }),
                Decision::Retry { delay_ms, .. } => prop_assert!(delay_ms <= p.backoff.ceiling_ms(plan.attempt - 1)),
                Decision::GiveUp(_) => break,
            }
        }
    }

    #[test]
    fn breakers_follow_their_states_under_any_clock(
        threshold in any::<u32>(), cooldown in any::<u64>(), seed in any::<u64>(),
        ops in prop::collection::vec(prop_oneof![number().prop_map(BreakerOp::Admit), Just(BreakerOp::Success), number().prop_map(BreakerOp::Failure), Just(BreakerOp::Abandon)], 0..40),
    ) {
        let mut b = Breaker::new(BreakerConfig { failure_threshold: threshold % 8, cooldown_ms: cooldown });
        let mut rng = SplitMix64::new(seed);
        for op in ops {
            let was_closed = matches!(b.state(), BreakerState::Closed { .. });
            match op {
                BreakerOp::Admit(now) => match b.admit(Mono(now)).0 {
                    Admission::Allowed => prop_assert!(was_closed),
                    Admission::Probe => prop_assert_eq!(b.admit(Mono(now)).0, Admission::Rejected { retry_in_ms: 0 }),
                    Admission::Rejected { .. } => prop_assert!(!was_closed),
                },
                BreakerOp::Success => {
                    let _ = b.on_success();
                }
                BreakerOp::Failure(now) => {
                    let _ = b.on_failure(Mono(now), &mut rng);
                }
                BreakerOp::Abandon => b.on_abandon(),
            }
        }
    }

    #[test]
    fn outbox_planning_never_panics_and_sends_one_per_origin(records in prop::collection::vec(record(), 0..8), now in number(), ttl in any::<u64>(), attempts in any::<u32>(), o in outcome(), p in policy()) {
        let round = plan(&records, Wall(now), ttl, |k| k.len() % 2 == 0, |k| k.len() % 3 == 0);
        let origin = |k: &String| records.iter().find(|r| &r.key == k).map(|r| origin_of(&r.url));
        let origins: std::collections::BTreeSet<_> = round.ready.iter().map(origin).collect();
        prop_assert!(origins.iter().all(Option::is_some) && round.ready.iter().all(|k| !round.expired.contains(k)));
        prop_assert_eq!(origins.len(), round.ready.len(), "one resend per origin");
        if let Resend::RetryAt { next_attempt_at, not_before, .. } = after_resend(&p, attempts, &o, Wall(now), &mut SplitMix64::new(1)) {
            prop_assert!(next_attempt_at.0.is_finite() && not_before.0.is_finite());
        }
    }
}
