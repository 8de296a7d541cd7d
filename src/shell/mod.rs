//! The wasm shell: performs the core's decisions in a JS runtime.
//!
//! Everything global comes from `globalThis` (fetch, timers, crypto), never
//! `window`, which workers, Node, Deno and workerd do not have.

mod client;
mod drain;
mod errors;
mod idb;
mod js;
mod live;
mod locks;
mod record_js;
mod request;
mod store;
mod timer;
