//! Writes the engine's actions for the host: the op (ops.rs), then its
//! fields in the order below. Names (error kinds, reasons, event types) go
//! as their numbers; the host reads them through pkg-template/contract.js
//! and writes the messages (errors.js).

#[allow(unused_imports)]
use crate::prelude::*;

use super::ops::Out;
use crate::core::codec::Writer;
use crate::core::contract::EventKind;
use crate::core::engine::{Action, Cause, Event, Failure, LockName, Source};

pub fn write(w: &mut Writer, action: &Action) {
    match action {
        Action::Send { io, source, key, timeout_ms, attempt, resumed } => {
            w.u8(Out::Send as u8).u32(io.0).opt_str(key.as_deref()).f64(*timeout_ms as f64).u32(*attempt).bool(*resumed);
            match source {
                Source::Call(call) => {
                    w.u32(call.0);
                }
                // A stored operation: the host rebuilds it (call 0).
                Source::Record(record) => {
                    w.u32(0).str(&record.method).str(&record.url).u32(record.headers.len() as u32);
                    for (name, value) in &record.headers {
                        w.str(name).str(value);
                    }
                    match &record.body {
                        Some(body) => w.u8(1).bytes(body),
                        None => w.u8(0),
                    };
                    // The first traced attempt's span context: the resend's span links to it.
                    w.opt_str(record.trace.as_deref());
                }
            }
        }
        Action::Cancel { io } => {
            w.u8(Out::Cancel as u8).u32(io.0);
        }
        Action::Resolve { call, response, last } => {
            w.u8(Out::Resolve as u8).u32(call.0).u32(response.0).bool(*last);
        }
        Action::Reject { call, failure: f } => failure(w.u8(Out::Reject as u8).u32(call.0), f),
        Action::Release { io } => {
            w.u8(Out::Release as u8).u32(io.0);
        }
        Action::Emit(e) => event(w.u8(Out::Emit as u8), e),
        Action::Get { io, key, .. } => {
            w.u8(Out::Get as u8).u32(io.0).str(key);
        }
        Action::Put { io, record, .. } => {
            w.u8(Out::Put as u8).u32(io.0).str(&record.key).bytes(&record.encode());
        }
        Action::Delete { io, key, .. } => {
            w.u8(Out::Delete as u8).u32(io.0).str(key);
        }
        Action::List { io, .. } => {
            w.u8(Out::List as u8).u32(io.0);
        }
        Action::Quarantine { io, listing, index, reason } => {
            w.u8(Out::Quarantine as u8).u32(io.0).u32(listing.0).u32(*index).u8(reason.code());
        }
        Action::Lock { io, name, wait, .. } => lock_name(w.u8(Out::Lock as u8).u32(io.0).bool(*wait), name),
        Action::Unlock { name } => lock_name(w.u8(Out::Unlock as u8), name),
        Action::Pending { call, ops } => {
            w.u8(Out::Pending as u8).u32(call.0).u32(ops.len() as u32);
            for op in ops {
                w.str(&op.key).str(&op.method).str(&op.url).u32(op.attempts).f64(op.created_at.0);
                match op.next_attempt_at {
                    Some(at) => w.u8(1).f64(at.0),
                    None => w.u8(0),
                };
                w.bool(op.durable);
            }
        }
        Action::CloseStore => {
            w.u8(Out::CloseStore as u8);
        }
        Action::Started { call } => {
            w.u8(Out::Started as u8).u32(call.0);
        }
        Action::Flush => {
            w.u8(Out::Flush as u8);
        }
        Action::Keep { io, key, data, status, attempts, response } => {
            w.u8(Out::Keep as u8).u32(io.0).str(key).bytes(data).u32(*status as u32).u32(*attempts).u32(response.0);
        }
        Action::Kept { call, held, last } => {
            w.u8(Out::Kept as u8).u32(call.0);
            match held {
                Some(io) => w.u8(1).u32(io.0).bool(*last),
                None => w.u8(0),
            };
        }
        Action::Drained { call, settled, remaining, retry } => {
            w.u8(Out::Drained as u8).u32(call.0).u32(*settled).u32(*remaining).bool(*retry);
        }
        Action::RegisterSync => {
            w.u8(Out::RegisterSync as u8);
        }
        Action::Announce { note } => {
            w.u8(Out::Announce as u8).bytes(note);
        }
        #[cfg(feature = "workflows")]
        action => runs::write(w, action),
    }
}

fn lock_name(w: &mut Writer, name: &LockName) {
    match name {
        LockName::Drain => w.u8(0),
        LockName::Key(key) => w.u8(1).str(key),
        LockName::Probe(origin) => w.u8(2).str(origin),
    };
}

/// The fields of a `DurafetchError`: kind, key, attempts, then what
/// applies (the host adds the caller's method and URL).
fn failure(w: &mut Writer, f: &Failure) {
    w.u8(f.kind as u8).opt_str(f.key.as_deref()).u32(f.attempts);
    w.opt_u32(f.reason.map(|r| r as u32)).opt_u32(f.status.map(u32::from));
    match &f.cause {
        None => w.u8(0),
        Some(Cause::Io(io)) => w.u8(1).u32(io.0),
        Some(Cause::Signal) => w.u8(2),
        Some(Cause::Text(text, unreadable)) => w.u8(3).u8(*text as u8).opt_u32(unreadable.map(|e| e.code() as u32)),
    };
    w.opt_str(f.origin.as_deref());
    match f.retry_after_ms {
        Some(ms) => w.u8(1).f64(ms as f64),
        None => w.u8(0),
    };
    w.opt_u32(f.action.map(|a| a as u32)).opt_u32(f.sent.map(u32::from));
}

fn event(w: &mut Writer, e: &Event) {
    match e {
        Event::Retry { key, attempt, delay_ms, reason, status, resumed } => {
            w.u8(EventKind::Retry as u8).opt_str(key.as_deref()).u32(*attempt).f64(*delay_ms as f64).u8(*reason as u8);
            w.opt_u32(status.map(u32::from)).bool(*resumed);
        }
        Event::GiveUp { key, reason, attempts, status } => {
            w.u8(EventKind::GiveUp as u8).opt_str(key.as_deref()).u8(*reason as u8).u32(*attempts).opt_u32(status.map(u32::from));
        }
        Event::Breaker { origin, state } => {
            w.u8(EventKind::Breaker as u8).str(origin).u8(*state as u8);
        }
        Event::Settled { key, status, attempts, resumed, response } => {
            w.u8(EventKind::Settled as u8).opt_str(key.as_deref()).u32(*status as u32).u32(*attempts).bool(*resumed);
            match response {
                Some((io, last)) => w.u8(1).u32(io.0).bool(*last),
                None => w.u8(0),
            };
        }
        Event::Queued { key, reason, attempts, status } => {
            w.u8(EventKind::Queued as u8).str(key).u8(*reason as u8).u32(*attempts).opt_u32(status.map(u32::from));
        }
        Event::StoreError(f) => failure(w.u8(EventKind::Store as u8).u8(0), f),
        Event::StoreSelected => {
            w.u8(EventKind::Store as u8).u8(2);
        }
        Event::Quarantined { key, reason, moved } => {
            w.u8(EventKind::Store as u8).u8(1).str(key).u8(reason.code()).bool(*moved);
        }
        #[cfg(feature = "workflows")]
        Event::Workflow { id, name, state, step } => {
            w.u8(EventKind::Workflow as u8).str(id).str(name).u8(*state as u8).opt_str(step.as_deref());
        }
    }
}

#[cfg(feature = "workflows")]
pub fn run_info(w: &mut Writer, info: &crate::core::engine::RunInfo) {
    w.str(&info.id).str(&info.name).u8(info.state as u8).u32(info.steps).f64(info.created_at.0);
}

#[cfg(feature = "workflows")]
mod runs {
    use super::*;
    use crate::core::engine::{RunOutcome, StepGo};

    pub fn write(w: &mut Writer, action: &Action) {
        match action {
            Action::PutRun { io, key, meta, input_of } => {
                w.u8(Out::PutRun as u8).u32(io.0).str(&meta.id).str(&meta.name).str(key).bytes(&meta.encode());
                w.opt_u32(input_of.map(|c| c.0));
            }
            Action::StopRuns => {
                w.u8(Out::StopRuns as u8);
            }
            Action::Execute { id } => {
                w.u8(Out::Execute as u8).str(id);
            }
            Action::StepGo { id, index, go } => {
                w.u8(Out::StepGo as u8).str(id).u32(*index);
                match go {
                    StepGo::Replay => w.u8(0),
                    StepGo::Run { key } => w.u8(1).str(key),
                    StepGo::Mismatch => w.u8(2),
                };
            }
            Action::StepCommitted { id, index } => {
                w.u8(Out::StepCommitted as u8).str(id).u32(*index);
            }
            Action::StepFailed { id, index, status } => {
                w.u8(Out::StepFailed as u8).str(id).u32(*index).opt_u32(status.map(u32::from));
            }
            Action::Undo { id, index, key } => {
                w.u8(Out::Undo as u8).str(id).u32(*index).str(key);
            }
            Action::RunStarted { call, id } => {
                w.u8(Out::RunStarted as u8).u32(call.0).str(id);
            }
            Action::RunEnded { call, id, outcome } => {
                w.u8(Out::RunEnded as u8).u32(call.0).str(id);
                match outcome {
                    RunOutcome::Done => w.u8(0),
                    RunOutcome::Failed { compensated } => {
                        w.u8(1).u32(compensated.len() as u32);
                        for step in compensated {
                            w.str(step);
                        }
                        w
                    }
                    RunOutcome::Mismatch => w.u8(2),
                };
            }
            Action::Runs { call, runs } => {
                w.u8(Out::Runs as u8).u32(call.0).u32(runs.len() as u32);
                for info in runs {
                    run_info(w, info);
                }
            }
            _ => {}
        }
    }
}
