//! The pure core: every retry decision, with no I/O, no clock and no global
//! randomness. Time comes in on two clocks (clock.rs) and randomness as a
//! seeded generator, so the same inputs always give the same decisions: tests
//! run on a virtual clock and never sleep.

#[allow(unused_imports)]
use crate::prelude::*;
pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod clock;
pub mod codec;
pub mod contract;
pub mod engine;
pub mod http_date;
#[cfg(feature = "workflows")]
pub mod journal;
pub mod kept;
pub mod key;
pub mod num;
pub mod options;
pub mod outbox;
pub mod outcome;
pub mod record;
pub mod retry_after;
pub mod rng;
pub mod schedule;
pub mod sort;
pub mod value;
