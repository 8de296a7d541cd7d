//! durafetch: fetch that retries safely.
//!
//! [`core`] decides (pure, native-testable); [`shell`] puts it behind the
//! byte interface its JS host drives (pkg-template/host.js).
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

pub mod shell;
