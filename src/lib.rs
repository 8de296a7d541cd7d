//! durafetch: fetch that retries safely.
//!
//! [`core`] decides (pure, native-testable); `shell` performs the decisions in
//! a JS runtime through wasm-bindgen.
//!
//! The browser build (feature `trap-on-panic`) has no std: std's panic
//! handler formats its message, and that formatting code was kilobytes of
//! every download. A panic kills a wasm instance either way; there it traps
//! at once.
#![cfg_attr(feature = "trap-on-panic", no_std)]

extern crate alloc;

pub mod core;
mod prelude;

#[cfg(feature = "trap-on-panic")]
#[panic_handler]
fn trap(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

#[cfg(feature = "trap-on-panic")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: a wasm instance without threads (no shared memory) runs on one thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

#[cfg(target_arch = "wasm32")]
mod shell;

/// For the crate's wasm-bindgen tests (tests/idb_*.rs): the record codec,
/// not a public API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __testing {
    pub use crate::shell::record_js::{decode, encode};
}
