//! The shell: the engine (src/core/engine) behind a byte interface.
//!
//! The JS host (pkg-template/host.js) writes each event as bytes (a call,
//! an attempt's answer, a store's completion, the timer), the shell reads it
//! into the engine, and writes every action that follows as bytes for the
//! host to perform: fetch, IndexedDB or an adapter, Web Locks, the timer,
//! the application's promises and listeners. Nothing is decided here, and
//! nothing of JS is held: the module imports no function and exports six
//! (exports.rs). Plain Rust, so its tests run natively like the core's.

#[allow(unused_imports)]
use crate::prelude::*;

mod actions;
#[cfg(target_arch = "wasm32")]
mod exports;
mod inputs;
pub mod ops;
mod options;

use crate::core::codec::{Malformed, Writer};
use crate::core::engine::{Engine, Mono};
use crate::core::options::{OptionError, Options, StoreChoice};

/// One client: its options until the host has opened the store, then the engine.
pub struct Client {
    options: Options,
    engine: Option<Engine>,
    /// The wake-up the host's timer is set for (-1: none).
    armed: Option<Mono>,
}

/// The first byte of every answer to an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The actions follow.
    Done = 0,
    /// An argument was refused: its name and what it accepts follow; nothing was done.
    Refused = 1,
    /// The host sent bytes the core cannot read (a bug in the host).
    Malformed = 2,
}

impl Client {
    /// Validates the encoded options. `out`: the store to open and the
    /// key header, or the option refused.
    pub fn create(encoded: &[u8], out: &mut Writer) -> Option<Client> {
        match options::parse(encoded) {
            Ok(options) => {
                let store = match options.store {
                    StoreChoice::Auto => 0,
                    StoreChoice::Memory => 1,
                    StoreChoice::IndexedDb => 2,
                    StoreChoice::Adapter => 3,
                };
                out.u8(Status::Done as u8).u8(store).str(&options.idempotency_header);
                Some(Client { options, engine: None, armed: None })
            }
            Err(error) => {
                refused(out, &error);
                None
            }
        }
    }

    /// One event from the host; `out` gets the status and the actions.
    pub fn input(&mut self, bytes: &[u8], out: &mut Writer) {
        out.bytes.clear();
        out.u8(Status::Done as u8);
        match inputs::apply(self, bytes, out) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                out.bytes.clear();
                refused(out, &error);
                return;
            }
            Err(Malformed) => {
                out.bytes.clear();
                out.u8(Status::Malformed as u8);
            }
        }
        self.flush(out);
    }

    /// The timer if its time changed, then every action the engine has.
    /// The timer goes first: performing an action may call the core again,
    /// whose answer then says the latest time.
    fn flush(&mut self, out: &mut Writer) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let next = engine.poll_timeout();
        if next != self.armed {
            self.armed = next;
            // -1 on the wire: no timer.
            out.u8(ops::Out::Timer as u8).f64(next.map_or(-1.0, |at| at.0));
        }
        while let Some(action) = engine.poll_action() {
            actions::write(out, &action);
        }
    }
}

fn refused(out: &mut Writer, error: &OptionError) {
    out.u8(Status::Refused as u8).str(&error.option).u8(error.expected as u8);
}

#[cfg(test)]
mod tests;
