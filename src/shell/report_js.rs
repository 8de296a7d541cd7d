//! The engine's failures, events and pending list as the plain JS objects
//! the JS entry turns into `DurafetchError`s and listener payloads (it
//! writes the messages, so wording lives in one place). A payload the JS
//! layer holds is named by its io (`causeIo`, `responseIo`).

#[allow(unused_imports)]
use crate::prelude::*;
use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::Fields;
use crate::core::contract::EventKind;
use crate::core::engine::{Cause, Event, Failure, PendingOp, RunInfo, RunOutcome};

pub fn failure(f: &Failure) -> JsValue {
    let fields = Fields::new()
        .set("durafetch", true)
        .set("kind", f.kind.as_str())
        .set("key", f.key.as_deref().map_or(JsValue::NULL, JsValue::from_str))
        .set("attempts", f.attempts)
        .set_opt("method", f.method.as_deref())
        .set_opt("url", f.url.as_deref())
        .set_opt("reason", f.reason.map(|r| r.as_str()))
        .set_opt("status", f.status)
        .set_opt("origin", f.origin.as_deref())
        .set_opt("retryAfterMs", f.retry_after_ms.map(|ms| ms as f64))
        .set_opt("action", f.action.map(|a| a.as_str()))
        .set_opt("sent", f.sent);
    match &f.cause {
        Some(Cause::Io(io)) => fields.set("causeIo", io.0),
        Some(Cause::Signal) => fields.set("causeSignal", true),
        Some(Cause::Text(text)) => fields.set("cause", text.as_str()),
        None => fields,
    }
    .build()
}

fn key(key: &Option<String>) -> JsValue {
    key.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// The event's type and payload.
pub fn event(event: &Event) -> (EventKind, JsValue) {
    match event {
        Event::Attempt { key: k, method, url, attempt, resumed } => (
            EventKind::Attempt,
            Fields::new()
                .set("key", key(k))
                .set("method", method.as_str())
                .set("url", url.as_str())
                .set("attempt", *attempt)
                .set("resumed", *resumed)
                .build(),
        ),
        Event::Retry { key: k, attempt, delay_ms, reason, status, resumed } => (
            EventKind::Retry,
            Fields::new()
                .set("key", key(k))
                .set("attempt", *attempt)
                .set("delayMs", *delay_ms as f64)
                .set("reason", reason.as_str())
                .set_opt("status", *status)
                .set("resumed", *resumed)
                .build(),
        ),
        Event::GiveUp { key: k, reason, attempts, status } => (
            EventKind::GiveUp,
            Fields::new()
                .set("key", key(k))
                .set("reason", reason.as_str())
                .set("attempts", *attempts)
                .set_opt("status", *status)
                .build(),
        ),
        Event::Breaker { origin, state } => {
            (EventKind::Breaker, Fields::new().set("origin", origin.as_str()).set("state", state.as_str()).build())
        }
        Event::Settled { key: k, status, attempts, resumed, response } => {
            let fields = Fields::new()
                .set("key", key(k))
                .set("status", *status)
                .set("attempts", *attempts)
                .set("resumed", *resumed);
            let fields = match response {
                Some((io, last)) => fields.set("responseIo", io.0).set("responseLast", *last),
                None => fields,
            };
            (EventKind::Settled, fields.build())
        }
        Event::Queued { key: k, reason, attempts, status } => (
            EventKind::Queued,
            Fields::new()
                .set("key", k.as_str())
                .set("reason", reason.as_str())
                .set("attempts", *attempts)
                .set_opt("status", *status)
                .build(),
        ),
        Event::StoreError(f) => (EventKind::Store, Fields::new().set("type", "error").set("error", failure(f)).build()),
        Event::Workflow { id, name, state, step } => (
            EventKind::Workflow,
            Fields::new()
                .set("id", id.as_str())
                .set("name", name.as_str())
                .set("state", state.as_str())
                .set_opt("step", step.as_deref())
                .build(),
        ),
        Event::Quarantined { key: k, reason, moved } => (
            EventKind::Store,
            Fields::new()
                .set("type", "quarantined")
                .set("key", k.as_str())
                .set("reason", reason.as_str())
                .set("moved", *moved)
                .build(),
        ),
    }
}

pub fn pending(ops: &[PendingOp]) -> JsValue {
    ops.iter()
        .map(|op| {
            Fields::new()
                .set("key", op.key.as_str())
                .set("method", op.method.as_str())
                .set("url", op.url.as_str())
                .set("attempts", op.attempts)
                .set("createdAt", op.created_at)
                .set_opt("nextAttemptAt", op.next_attempt_at)
                .set("durable", op.durable)
                .build()
        })
        .collect::<Array>()
        .into()
}

pub fn run_info(run: &RunInfo) -> JsValue {
    Fields::new()
        .set("id", run.id.as_str())
        .set("name", run.name.as_str())
        .set("state", run.state.as_str())
        .set("steps", run.steps)
        .set("createdAt", run.created_at)
        .build()
}

pub fn runs(runs: &[RunInfo]) -> JsValue {
    runs.iter().map(run_info).collect::<Array>().into()
}

/// `{ state: 'completed' | 'failed' | 'mismatch', compensated? }`
pub fn outcome(outcome: &RunOutcome) -> JsValue {
    match outcome {
        RunOutcome::Done => Fields::new().set("state", "completed").build(),
        RunOutcome::Mismatch => Fields::new().set("state", "mismatch").build(),
        RunOutcome::Failed { compensated } => {
            let names: Array = compensated.iter().map(|n| JsValue::from_str(n)).collect();
            Fields::new().set("state", "failed").set("compensated", names).build()
        }
    }
}
