//! The wasm shell: runs the engine (src/core/engine) in a JS runtime.
//!
//! `Core` (client.rs) is what the JS entry holds. Each call and each
//! completion of I/O is an event for the engine; executor.rs performs the
//! actions that follow on the JS I/O layer (host.rs binds it:
//! pkg-template/io/), which does fetch, IndexedDB or the adapter, Web Locks
//! and the timer. No decision is made here.

#[allow(unused_imports)]
use crate::prelude::*;
mod client;
mod executor;
mod host;
mod js;
mod options_js;
pub mod record_js;
mod report_js;
