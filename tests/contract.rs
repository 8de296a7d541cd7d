#![cfg(not(target_arch = "wasm32"))]
//! Everything that crosses between the core and JS is a Rust enum: the
//! ops of the byte interface (src/shell/ops.rs) and every name a user sees
//! (src/core/contract.rs and beside it). The .wasm sends numbers; the JS
//! host reads them through pkg-template/contract.js, which this test
//! writes from the enums and checks is current (`UPDATE_CONTRACT=1 cargo
//! test --test contract` rewrites it). The type declarations and the error
//! messages must list the same names.

use durafetch::core::breaker::Transition;
use durafetch::core::contract::{ErrorKind, EventKind, GiveUpReason, QueueReason, StoreAction, WorkflowState};
use durafetch::core::engine::CauseText;
use durafetch::core::journal::RunState;
use durafetch::core::options::Expect;
use durafetch::core::outcome::RetryReason;
use durafetch::core::record::Field;
use durafetch::shell::ops::{In, Out, RunEventKind};

fn path(file: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + file
}

fn read(file: &str) -> String {
    std::fs::read_to_string(path(file)).expect(file)
}

fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|k| as_str(*k).to_string()).collect()
}

fn constants(out: &mut String, prefix: &str, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        out.push_str(&format!("export const {prefix}_{} = {i};\n", name.to_uppercase()));
    }
}

fn list(out: &mut String, name: &str, items: &[String]) {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))).collect();
    out.push_str(&format!("export const {name} = [{}];\n", quoted.join(", ")));
}

/// pkg-template/contract.js as the enums say it must be.
fn contract_js() -> String {
    let mut out = String::from(
        "// Written by `cargo test --test contract` from the Rust enums (tests/contract.rs):\n\
         // do not edit; `UPDATE_CONTRACT=1 cargo test --test contract` rewrites it.\n\
         // The core sends and reads numbers; these are what they mean.\n\n\
         // Inputs (JS -> core) and actions (core -> JS): src/shell/ops.rs.\n",
    );
    constants(&mut out, "IN", &names(In::ALL, In::as_str));
    constants(&mut out, "OUT", &names(Out::ALL, Out::as_str));
    constants(&mut out, "RUN_EVENT", &names(RunEventKind::ALL, RunEventKind::as_str));
    constants(&mut out, "EVENT", &names(EventKind::ALL, EventKind::as_str));
    out.push_str("\n// Names, by their number.\n");
    list(&mut out, "ERROR_KINDS", &names(ErrorKind::ALL, ErrorKind::as_str));
    list(&mut out, "GIVE_UP_REASONS", &names(GiveUpReason::ALL, GiveUpReason::as_str));
    list(&mut out, "QUEUE_REASONS", &names(QueueReason::ALL, QueueReason::as_str));
    list(&mut out, "EVENT_TYPES", &names(EventKind::ALL, EventKind::as_str));
    list(&mut out, "RETRY_REASONS", &names(RetryReason::ALL, RetryReason::as_str));
    list(&mut out, "BREAKER_STATES", &names(Transition::ALL, Transition::as_str));
    list(&mut out, "STORE_ACTIONS", &names(StoreAction::ALL, StoreAction::as_str));
    list(&mut out, "WORKFLOW_STATES", &names(WorkflowState::ALL, WorkflowState::as_str));
    list(&mut out, "RUN_STATES", &names(RunState::ALL, RunState::as_str));
    list(&mut out, "FIELDS", &names(Field::ALL, Field::as_str));
    out.push_str("\n// Words, by their number.\n");
    list(&mut out, "EXPECTED", &names(Expect::ALL, Expect::as_str));
    list(&mut out, "CAUSE_TEXTS", &names(CauseText::ALL, CauseText::as_str));
    out
}

#[test]
fn contract_js_is_written_from_the_rust_enums() {
    let want = contract_js();
    let file = "pkg-template/contract.js";
    if std::env::var_os("UPDATE_CONTRACT").is_some() {
        std::fs::write(path(file), &want).expect(file);
    }
    assert!(read(file) == want, "{file} is out of date: run `UPDATE_CONTRACT=1 cargo test --test contract`");
}

/// The quoted strings of a TypeScript union `export type Name = 'a' | 'b';`.
fn union(source: &str, name: &str) -> Vec<String> {
    let start = source.find(&format!("export type {name} =")).unwrap_or_else(|| panic!("no type {name}"));
    let rest = &source[start..];
    let end = rest.find(';').expect("a ; ends the type");
    rest[..end].split('\'').skip(1).step_by(2).map(str::to_string).collect()
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
    assert_eq!(sorted(union(&dts, "RetryReason")), sorted(names(RetryReason::ALL, RetryReason::as_str)));
    assert_eq!(sorted(union(&dts, "BreakerState")), sorted(names(Transition::ALL, Transition::as_str)));
    assert_eq!(sorted(union(&dts, "StoreAction")), sorted(names(StoreAction::ALL, StoreAction::as_str)));
    let events = dts.split("export interface DurafetchEvents {").nth(1).and_then(|r| r.split('}').next()).expect("DurafetchEvents");
    let declared: Vec<String> = events.lines().filter_map(|l| l.trim().split(':').next()).filter(|n| !n.is_empty()).map(str::to_string).collect();
    assert_eq!(sorted(declared), sorted(names(EventKind::ALL, EventKind::as_str)));
    assert!(dts.contains("reason: QueueReason;") && dts.contains("reason?: QueueReason;"), "queued reasons are QueueReason");
    assert_eq!(sorted(union(&dts, "WorkflowState")), sorted(names(WorkflowState::ALL, WorkflowState::as_str)));
    let workflows = read("pkg-template/workflows/index.d.ts");
    assert_eq!(sorted(union(&workflows, "RunState")), sorted(names(RunState::ALL, RunState::as_str)));
}

#[test]
fn errors_js_has_words_for_every_error_kind() {
    let errors = read("pkg-template/errors.js");
    for kind in ErrorKind::ALL {
        assert!(errors.contains(&format!("case '{}':", kind.as_str())), "no message for kind '{}'", kind.as_str());
    }
}
