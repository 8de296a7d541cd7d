//! durafetch: fetch that retries safely.
//!
//! [`core`] decides (pure, native-testable); `shell` performs the decisions in
//! a JS runtime through wasm-bindgen.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod shell;
