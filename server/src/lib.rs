//! durafetch-server: the server half of durafetch.
//!
//! [`core`] decides (pure, native-testable: no clock, no I/O, no wasm types);
//! `shell` exposes it to JS through wasm-bindgen. The stores (Redis,
//! PostgreSQL, Durable Objects, Deno KV, memory) are thin JS adapters that
//! make each step atomic in one round trip; [`core::record`] is the contract
//! they implement.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod shell;
