//! The two clocks, as types: a time on one is never compared with, stored
//! as, or added to a time on the other.
//!
//! What is stored and compared across pages and restarts (a record's
//! creation, its next attempt, a server's Retry-After date) is on the wall
//! clock, epoch ms (`Date.now()`), which the user may set. Timers (attempt
//! timeouts, backoff waits, deadlines, breaker cooldowns, a budget's refill)
//! run on a monotonic clock in ms (`performance.now()`), like setTimeout:
//! setting the wall clock neither cuts a wait nor stalls one. Durations are
//! plain `f64` ms; a time plus a duration is a time on the same clock, and
//! a time less another is a duration.

#[allow(unused_imports)]
use crate::prelude::*;
use core::ops::{Add, Sub};

/// A time on the wall clock: epoch ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Wall(pub f64);

impl Wall {
    /// 1970: before every time there is; a floor that holds nothing back.
    pub const EPOCH: Wall = Wall(0.0);
}

/// A time on the monotonic clock: ms since the context started.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Mono(pub f64);

macro_rules! clock {
    ($t:ident) => {
        impl Add<f64> for $t {
            type Output = $t;
            fn add(self, ms: f64) -> $t {
                $t(self.0 + ms)
            }
        }

        impl Sub for $t {
            type Output = f64;
            /// The ms from `earlier` to this.
            fn sub(self, earlier: $t) -> f64 {
                self.0 - earlier.0
            }
        }

        impl $t {
            /// The earlier of the two (a NaN loses, as with `f64::min`).
            pub fn min(self, other: $t) -> $t {
                $t(self.0.min(other.0))
            }

            /// The later of the two.
            pub fn max(self, other: $t) -> $t {
                $t(self.0.max(other.0))
            }
        }
    };
}

clock!(Wall);
clock!(Mono);

/// The time of an event on both clocks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Now {
    pub wall: Wall,
    pub mono: Mono,
}

impl Now {
    /// The wall-clock time `at` as a monotonic time.
    pub fn mono_of(self, at: Wall) -> Mono {
        self.mono + (at - self.wall)
    }
}
