//! The wasm shell: performs the core's decisions in a JS runtime.
//!
//! Everything global comes from `globalThis` (fetch, timers, crypto), never
//! `window`, which workers, Node, Deno and workerd do not have.

mod client;
mod drain;
mod errors;
pub mod idb;
mod js;
mod live;
mod locks;
pub mod record_js;
mod request;
mod small_map;
pub mod store;
mod timer;
