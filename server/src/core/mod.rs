//! The pure core of the server half: no clock, no I/O. Owner tokens come
//! from the caller; durations (the lease, the ttl) go to the store, which
//! applies them on its own clock ([`record`]), so the same inputs always give
//! the same decisions and tests run on a virtual clock.
//!
//! A request's life: [`admission`] reads the key header (the grammar is
//! durafetch-wire's, shared with the client); the store claims the key
//! atomically for this request's [`claimant`] (scope and fingerprint), and
//! [`verdict`] turns its reply into "run the handler" or an answer (403, 409,
//! 422, a replay, 503); after the handler, [`settle`] says what to store, or
//! to release the claim.

pub mod admission;
pub mod claimant;
pub mod digest;
pub mod memory;
pub mod options;
pub mod problem;
pub mod record;
pub mod settle;
pub mod stored;
pub mod verdict;
