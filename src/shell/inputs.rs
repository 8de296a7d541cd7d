//! Reads one event from the host's bytes and hands it to the engine.
//!
//! Every input is `op, wall, mono` (the two clocks: `Date.now()`,
//! `performance.now()`) and then its fields, in the order below; the JS
//! writer is pkg-template/host.js.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ops::In;
use super::Client;
use crate::core::codec::{Malformed, Reader, Writer};
use crate::core::engine::{Arg, AttemptFailure, CallId, CallRequest, DrainFor, Engine, EngineConfig, Io, Mono, Now, Stored, Wall};
use crate::core::options::OptionError;

type Applied = Result<Result<(), OptionError>, Malformed>;

pub fn apply(client: &mut Client, bytes: &[u8], out: &mut Writer) -> Applied {
    let r = &mut Reader::new(bytes);
    let op = *In::ALL.get(r.u8()? as usize).ok_or(Malformed)?;
    let now = Now { wall: Wall(r.finite()?), mono: Mono(r.finite()?) };
    if op == In::Start {
        let call = CallId(r.u32()?);
        let persistent = r.bool()?;
        let online = r.bool()?;
        let sync_api = r.bool()?;
        let shared = r.bool()?;
        let seed = u64::from_le_bytes(random::<8>(r)?);
        let options = client.options.clone();
        let seed = options.seed.unwrap_or(seed);
        let mut engine = Engine::new(EngineConfig { options, persistent, seed, online, sync_api, shared });
        engine.start(now, call);
        client.engine = Some(engine);
        return Ok(Ok(()));
    }
    if op == In::Timer {
        // The host's timer fired: it has none set now.
        client.armed = None;
    }
    let Some(engine) = client.engine.as_mut() else {
        // Another tab's news can reach a client between opening its channel
        // and its start: nothing to apply it to yet, and nothing is lost (the
        // engine's hello, once started, asks the others again).
        return if matches!(op, In::Heard) { Ok(Ok(())) } else { Err(Malformed) };
    };
    let done = Ok(Ok(()));
    match op {
        In::Start => {}
        In::Call => {
            let call = CallId(r.u32()?);
            let method = r.string()?;
            let url = r.string()?;
            let key = arg(r, |r| r.string())?;
            let header_key = r.opt_string()?;
            let body = match r.u8()? {
                0 => None,
                _ => Some(r.bytes()?.to_vec()),
            };
            let mut headers = Vec::new();
            for _ in 0..r.u32()? {
                headers.push((r.string()?, r.string()?));
            }
            let durable = arg(r, |r| r.bool())?;
            let aborted = r.bool()?;
            let from_step = match r.bool()? {
                // Only the full build runs steps.
                true if cfg!(feature = "workflows") => Some((r.string()?, r.u32()?)),
                true => return Err(Malformed),
                false => None,
            };
            let random = random::<16>(r)?;
            let request =
                CallRequest { call, method, url, key, header_key, random, body, headers, durable, aborted, from_step };
            return Ok(engine.call(now, request));
        }
        In::Answered => {
            let io = Io(r.u32()?);
            let status = u16::try_from(r.u32()?).map_err(|_| Malformed)?;
            let retry_after = r.opt_string()?;
            engine.answered(now, io, status, retry_after.as_deref());
        }
        In::Failed => {
            let io = Io(r.u32()?);
            let failure = match r.bool()? {
                true => AttemptFailure::BeforeReplay,
                false => AttemptFailure::Network { offline: r.bool()? },
            };
            engine.failed(now, io, failure);
        }
        In::Got => {
            let io = Io(r.u32()?);
            let result = match r.bool()? {
                false => Err(()),
                true => stored(r)?.map_or(Ok(None), |s| Ok(Some(s))),
            };
            engine.got(now, io, result);
        }
        In::Wrote => {
            let io = Io(r.u32()?);
            engine.wrote(now, io, if r.bool()? { Ok(()) } else { Err(()) });
        }
        In::Locked => {
            let io = Io(r.u32()?);
            engine.locked(now, io, r.bool()?);
        }
        In::Listed => {
            let io = Io(r.u32()?);
            let result = match r.bool()? {
                false => Err(()),
                true => {
                    let n = r.u32()?;
                    let mut values = Vec::new();
                    for _ in 0..n {
                        // Nothing stored at an index is not a value: unreadable.
                        values.push(stored(r)?.unwrap_or(Stored::decode(None, None)));
                    }
                    Ok(values)
                }
            };
            engine.listed(now, io, result);
        }
        In::Quarantined => {
            let io = Io(r.u32()?);
            let ok = r.bool()?;
            let moved = r.bool()?;
            engine.quarantined(now, io, if ok { Ok(moved) } else { Err(()) });
        }
        In::Timer => engine.handle_timeout(now),
        In::Abort => engine.abort(now, CallId(r.u32()?)),
        In::Pending => engine.pending(now, CallId(r.u32()?)),
        In::Online => engine.online(now),
        In::Offline => engine.offline(now),
        In::Resume => {
            let woken = engine.resume(now);
            out.u8(super::ops::Out::Resumed as u8).u32(woken);
        }
        In::Close => engine.close(now),
        In::Listen => engine.set_listening(r.u32()?),
        In::Result => {
            let call = CallId(r.u32()?);
            let key = arg(r, |r| r.string())?;
            return Ok(engine.result_of(now, call, key));
        }
        In::Drain => {
            let call = CallId(r.u32()?);
            let why = match r.u8()? {
                0 => DrainFor::Call,
                1 => DrainFor::Sync { last_chance: false },
                2 => DrainFor::Sync { last_chance: true },
                _ => return Err(Malformed),
            };
            engine.drain(now, call, why);
        }
        In::Visible => engine.visible(now),
        In::SyncRegistered => engine.sync_registered(now, r.bool()?),
        In::Heard => engine.heard(now, r.bytes()?),
        In::Traced => {
            let io = Io(r.u32()?);
            engine.traced(io, r.str()?);
        }
        #[cfg(feature = "workflows")]
        op => return runs::apply(engine, op, r, now, out),
        #[cfg(not(feature = "workflows"))]
        _ => return Err(Malformed),
    }
    done
}

/// An argument: 0 absent, 1 given (then its value), 2 of the wrong type.
fn arg<T>(r: &mut Reader, read: impl FnOnce(&mut Reader) -> Result<T, Malformed>) -> Result<Arg<T>, Malformed> {
    match r.u8()? {
        0 => Ok(Arg::Absent),
        1 => read(r).map(Arg::Given),
        2 => Ok(Arg::WrongType),
        _ => Err(Malformed),
    }
}

/// N bytes from the platform's CSPRNG.
fn random<const N: usize>(r: &mut Reader) -> Result<[u8; N], Malformed> {
    let mut out = [0u8; N];
    for b in out.iter_mut() {
        *b = r.u8()?;
    }
    Ok(out)
}

/// A stored value as the host found it: 0 nothing there, 1 its bytes (and
/// its key, if it has one), 2 a value without bytes (and its key).
fn stored(r: &mut Reader) -> Result<Option<Stored>, Malformed> {
    Ok(match r.u8()? {
        0 => None,
        1 => {
            let data = r.bytes()?;
            Some(Stored::decode(Some(data), r.opt_string()?))
        }
        2 => Some(Stored::decode(None, r.opt_string()?)),
        _ => return Err(Malformed),
    })
}

#[cfg(feature = "workflows")]
mod runs {
    use super::*;
    use crate::core::engine::RunInput;
    use crate::shell::ops::{Out, RunEventKind};

    pub fn apply(engine: &mut Engine, op: In, r: &mut Reader, now: Now, out: &mut Writer) -> Applied {
        match op {
            In::StartRun => {
                let call = CallId(r.u32()?);
                let id = arg(r, |r| r.string())?;
                let name = r.string()?;
                let input = r.string()?;
                let random = random::<32>(r)?;
                return Ok(engine.start_run(now, call, id, name, &input, random));
            }
            In::RunEvent => {
                let kind = *RunEventKind::ALL.get(r.u8()? as usize).ok_or(Malformed)?;
                let id = r.string()?;
                let index = r.u32()?;
                let name = r.string()?;
                let flag = r.bool()?;
                let status = r.opt_u32()?.map(|s| u16::try_from(s).map_err(|_| Malformed)).transpose()?;
                let input = match kind {
                    RunEventKind::StepReached => RunInput::Reached { index, name, undo: flag },
                    RunEventKind::StepDone => RunInput::StepDone { index, name, status },
                    RunEventKind::StepThrew => RunInput::StepThrew { index },
                    RunEventKind::Failed => RunInput::Failed,
                    RunEventKind::UndoDone => RunInput::Undone { index, ok: flag },
                    RunEventKind::Returned => RunInput::Returned,
                };
                return Ok(engine.run_input(now, &id, input));
            }
            In::RunResult => {
                let call = CallId(r.u32()?);
                engine.run_result(now, call, r.string()?);
            }
            In::Runs => engine.runs(now, CallId(r.u32()?)),
            In::RunInfo => {
                let info = engine.run_info(r.str()?);
                out.u8(Out::Info as u8);
                match info {
                    Some(info) => super::super::actions::run_info(out.u8(1), &info),
                    None => {
                        out.u8(0);
                    }
                }
            }
            _ => return Err(Malformed),
        }
        Ok(Ok(()))
    }
}
