//! durafetch: fetch that retries safely.
//!
//! [`core`] decides (pure, native-testable); `shell` performs the decisions in
//! a JS runtime through wasm-bindgen.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod shell;

/// For the crate's wasm-bindgen tests (tests/idb_*.rs): the record codec,
/// not a public API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __testing {
    pub use crate::shell::record_js::{decode, encode};
}
