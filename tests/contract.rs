#![cfg(not(target_arch = "wasm32"))]
//! The names the JS API shows are Rust enums (src/core/contract.rs); the
//! JS entry and the type declarations repeat them. They must agree.

use durafetch::core::contract::{ErrorKind, EventKind, GiveUpReason, QueueReason};
use durafetch::core::outcome::RetryReason;

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path).expect(path)
}

/// The quoted strings of a TypeScript union `export type Name = 'a' | 'b';`.
fn union(source: &str, name: &str) -> Vec<String> {
    let start = source.find(&format!("export type {name} =")).unwrap_or_else(|| panic!("no type {name}"));
    let rest = &source[start..];
    let end = rest.find(';').expect("a ; ends the type");
    quoted(&rest[..end])
}

fn quoted(text: &str) -> Vec<String> {
    text.split('\'').skip(1).step_by(2).map(str::to_string).collect()
}

fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|k| as_str(*k).to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn index_d_ts_lists_what_rust_sends() {
    let dts = read("pkg-template/index.d.ts");
    assert_eq!(sorted(union(&dts, "DurafetchErrorKind")), sorted(names(ErrorKind::ALL, ErrorKind::as_str)));
    assert_eq!(sorted(union(&dts, "GiveUpReason")), sorted(names(GiveUpReason::ALL, GiveUpReason::as_str)));
    assert_eq!(sorted(union(&dts, "QueueReason")), sorted(names(QueueReason::ALL, QueueReason::as_str)));
    let retry = [RetryReason::Network, RetryReason::Timeout, RetryReason::Status];
    assert_eq!(sorted(union(&dts, "RetryReason")), sorted(names(&retry, RetryReason::as_str)));
    let events = dts.split("export interface DurafetchEvents {").nth(1).and_then(|r| r.split('}').next()).expect("DurafetchEvents");
    let declared: Vec<String> = events.lines().filter_map(|l| l.trim().split(':').next()).filter(|n| !n.is_empty()).map(str::to_string).collect();
    assert_eq!(sorted(declared), sorted(names(EventKind::ALL, EventKind::as_str)));
    assert!(dts.contains("reason: QueueReason;") && dts.contains("reason?: QueueReason;"), "queued reasons are QueueReason");
}

#[test]
fn client_js_event_bits_follow_the_rust_order() {
    let client = read("pkg-template/client.js");
    let line = client.lines().find(|l| l.contains("const EVENT_TYPES")).expect("EVENT_TYPES in client.js");
    assert_eq!(quoted(line), names(EventKind::ALL, EventKind::as_str), "bit i of the listening mask is EventKind i");
}

#[test]
fn errors_js_has_words_for_every_error_kind() {
    let errors = read("pkg-template/errors.js");
    for kind in ErrorKind::ALL {
        assert!(errors.contains(&format!("case '{}':", kind.as_str())), "no message for kind '{}'", kind.as_str());
    }
}
