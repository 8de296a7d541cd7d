//! The module's whole interface: six functions over two buffers in its
//! memory. The host asks for room for an input (`df_in`), writes it there,
//! calls `df_create` or `df_input`, and reads the answer at `df_out`
//! before its next call. A client is the address of its box.

#[allow(unused_imports)]
use crate::prelude::*;
use ::core::cell::UnsafeCell;

use super::Client;
use crate::core::codec::Writer;

struct Buffers {
    input: Vec<u8>,
    output: Writer,
}

struct Shared(UnsafeCell<Buffers>);

// SAFETY: a wasm instance without threads (no shared memory) runs on one
// thread, and no export is re-entered while another runs.
unsafe impl Sync for Shared {}

static BUFFERS: Shared = Shared(UnsafeCell::new(Buffers { input: Vec::new(), output: Writer { bytes: Vec::new() } }));

fn buffers() -> &'static mut Buffers {
    // SAFETY: see `Shared`: one caller at a time, and each export takes
    // this reference once and drops it before returning.
    unsafe { &mut *BUFFERS.0.get() }
}

/// Room for an input of `len` bytes; where to write it.
#[no_mangle]
pub extern "C" fn df_in(len: u32) -> *mut u8 {
    let input = &mut buffers().input;
    input.clear();
    input.resize(len as usize, 0);
    input.as_mut_ptr()
}

/// Where the last answer starts (its length is what the call returned).
#[no_mangle]
pub extern "C" fn df_out() -> *const u8 {
    buffers().output.bytes.as_ptr()
}

/// A client from the options written at `df_in`; 0 if they are refused.
/// Its answer (the store to open, or what was refused) is `df_out_len` long.
#[no_mangle]
pub extern "C" fn df_create(len: u32) -> u32 {
    let b = buffers();
    b.output.bytes.clear();
    let options = b.input.get(..len as usize).unwrap_or_default();
    match Client::create(options, &mut b.output) {
        Some(client) => Box::into_raw(Box::new(client)) as u32,
        None => 0,
    }
}

/// The length of the last answer.
#[no_mangle]
pub extern "C" fn df_out_len() -> u32 {
    buffers().output.bytes.len() as u32
}

/// One event for `client`, written at `df_in`; returns the answer's length.
#[no_mangle]
pub extern "C" fn df_input(client: u32, len: u32) -> u32 {
    let b = buffers();
    // SAFETY: `client` is an address `df_create` returned and `df_free`
    // has not taken back (the host keeps it private, one per client).
    let client = unsafe { &mut *(client as *mut Client) };
    client.input(b.input.get(..len as usize).unwrap_or_default(), &mut b.output);
    b.output.bytes.len() as u32
}

/// Ends `client` (the host drops it when its client is gone).
#[no_mangle]
pub extern "C" fn df_free(client: u32) {
    if client != 0 {
        // SAFETY: as in `df_input`; the host calls this once per client.
        drop(unsafe { Box::from_raw(client as *mut Client) });
    }
}
