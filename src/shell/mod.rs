//! The wasm shell: performs the core's decisions in a JS runtime.
//!
//! Everything global comes from `globalThis` (fetch, timers, crypto), never
//! `window`, which workers, Node, Deno and workerd do not have.

mod client;
mod errors;
mod js;
mod request;
mod timer;
