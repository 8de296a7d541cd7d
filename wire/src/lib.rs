//! durafetch-wire: what the client (`durafetch`, in the browser's .wasm) and
//! the server (`durafetch-server`) must agree on, defined once.
//!
//! - [`key`]: what an idempotency key is, how it travels in a header, and how
//!   a header value is read back into a key. The client only makes keys this
//!   module accepts, and the server reads each one back to the same key.
//! - [`value`]: the plain-data view of a JS value both shells hand their cores.
//! - [`options`], [`token`], [`num`]: the checks both option parsers use, so a
//!   number, a header name or a method is valid in one half exactly when it is
//!   in the other.
//!
//! `no_std` (with `alloc`) and without `core::fmt` or panicking paths: the
//! client's browser build links it, and a panic in wasm kills the instance.
#![no_std]

extern crate alloc;

pub mod key;
pub mod num;
pub mod options;
pub mod token;
pub mod value;
