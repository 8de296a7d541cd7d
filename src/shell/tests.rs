//! The byte interface, natively: options in, a call in, its actions out.

use super::ops::{In, Out};
use super::*;

fn options(fields: &[(&str, f64)]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(8).u32(fields.len() as u32);
    for (name, value) in fields {
        w.str(name).u8(4).f64(*value);
    }
    w.bytes
}

fn input(op: In) -> Writer {
    let mut w = Writer::new();
    w.u8(op as u8).f64(1_700_000_000_000.0).f64(5.0);
    w
}

/// A client started, past its first (ready) timer: nothing pending.
fn started_client(out: &mut Writer) -> Client {
    let mut client = Client::create(&options(&[]), out).expect("defaults");
    let mut start = input(In::Start);
    start.u32(99).bool(false).bool(true).bool(false).bool(false).bytes.extend_from_slice(&[0; 8]);
    client.input(&start.bytes, out);
    let mut started = Writer::new();
    started.u8(Status::Done as u8).u8(Out::Timer as u8).f64(5.0).u8(Out::Started as u8).u32(99);
    assert_eq!(out.bytes, started.bytes, "answered at once, the first resend pass on a later task");
    client.input(&input(In::Timer).bytes, out);
    client
}

#[test]
fn a_refused_option_is_named() {
    let mut out = Writer::new();
    assert!(Client::create(&options(&[("maxAttempts", 0.0)]), &mut out).is_none());
    let mut expected = Writer::new();
    expected.u8(Status::Refused as u8).str("maxAttempts").u8(crate::core::options::Expect::Attempts as u8);
    assert_eq!(out.bytes, expected.bytes);
    assert!(Client::create(&[7, 0], &mut Writer::new()).is_none(), "an array is not an options object");
}

#[test]
fn a_get_is_sent_and_its_answer_resolves_the_caller() {
    let mut out = Writer::new();
    let mut client = started_client(&mut out);

    let mut call = input(In::Call);
    call.u32(1).str("GET").str("http://127.0.0.1:9/x").u8(0).opt_str(None).u8(0).u32(0).u8(0).bool(false).bool(false);
    call.bytes.extend_from_slice(&[0; 16]);
    client.input(&call.bytes, &mut out);
    let mut r = crate::core::codec::Reader::new(&out.bytes);
    assert_eq!(r.u8(), Ok(Status::Done as u8));
    assert_eq!((r.u8(), r.f64()), (Ok(Out::Timer as u8), Ok(10_005.0)), "the attempt's timeout is armed first");
    assert_eq!(r.u8(), Ok(Out::Send as u8));
    let io = r.u32().unwrap();
    assert_eq!((r.opt_string(), r.f64(), r.u32(), r.bool(), r.u32()), (Ok(None), Ok(10_000.0), Ok(1), Ok(false), Ok(1)));

    let mut answered = input(In::Answered);
    answered.u32(io).u32(200).opt_str(None);
    client.input(&answered.bytes, &mut out);
    let mut r = crate::core::codec::Reader::new(&out.bytes);
    assert_eq!((r.u8(), r.u8(), r.f64()), (Ok(0), Ok(Out::Timer as u8), Ok(-1.0)), "nothing left to wake for");
    assert_eq!((r.u8(), r.u32(), r.u32(), r.bool()), (Ok(Out::Resolve as u8), Ok(1), Ok(io), Ok(true)));
}

#[test]
fn malformed_input_is_reported_not_a_panic() {
    let mut out = Writer::new();
    let mut client = Client::create(&options(&[]), &mut out).expect("defaults");
    for bytes in [&[][..], &[200], &[In::Call as u8, 1, 2], &[In::Timer as u8; 17]] {
        client.input(bytes, &mut out);
        assert_eq!(out.bytes, [Status::Malformed as u8], "{bytes:?}");
    }
}

#[test]
fn another_tabs_news_before_the_start_is_ignored_not_malformed() {
    let mut out = Writer::new();
    let mut client = Client::create(&options(&[]), &mut out).expect("defaults");
    let mut heard = input(In::Heard);
    heard.bytes(&[1, 8]);
    client.input(&heard.bytes, &mut out);
    assert_eq!(out.bytes, [Status::Done as u8]);
    // Anything else before the start is still a host's bug.
    client.input(&input(In::Online).bytes, &mut out);
    assert_eq!(out.bytes, [Status::Malformed as u8]);
}

#[test]
fn a_bad_idempotency_key_is_refused() {
    let mut out = Writer::new();
    let mut client = started_client(&mut out);
    let mut call = input(In::Call);
    call.u32(1).str("POST").str("http://127.0.0.1:9/x").u8(1).str("has space").opt_str(None).u8(0).u32(0).u8(0).bool(false).bool(false);
    call.bytes.extend_from_slice(&[0; 16]);
    client.input(&call.bytes, &mut out);
    let mut expected = Writer::new();
    expected.u8(Status::Refused as u8).str("idempotencyKey").u8(crate::core::options::Expect::Key as u8);
    assert_eq!(out.bytes, expected.bytes);
}

#[test]
fn the_timer_is_armed_again_after_it_fires() {
    let mut out = Writer::new();
    let mut client = started_client(&mut out);
    let mut call = input(In::Call);
    call.u32(1).str("GET").str("http://127.0.0.1:9/x").u8(0).opt_str(None).u8(0).u32(0).u8(0).bool(false).bool(false);
    call.bytes.extend_from_slice(&[0; 16]);
    client.input(&call.bytes, &mut out);
    assert_eq!(out.bytes[1], Out::Timer as u8);
    // It fires early (the host may wake early): the same wake-up is armed again.
    client.input(&input(In::Timer).bytes, &mut out);
    let mut r = crate::core::codec::Reader::new(&out.bytes);
    assert_eq!((r.u8(), r.u8(), r.f64()), (Ok(0), Ok(Out::Timer as u8), Ok(10_005.0)));
}
