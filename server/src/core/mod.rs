//! The pure core of the server half. Time comes in as epoch milliseconds and
//! owner tokens from the caller, so the same inputs always give the same
//! decisions and tests run on a virtual clock.
//!
//! A request's life: [`admission`] reads the key header; the store claims
//! (scope, key) atomically, whose reply [`verdict`] turns into "run the
//! handler" or an answer (409, 422, a replay, 503); after the handler,
//! [`settle`] says what to store, or to release the claim.

pub mod admission;
pub mod digest;
pub mod key_header;
pub mod options;
pub mod problem;
pub mod record;
pub mod settle;
pub mod stored;
pub mod value;
pub mod verdict;
