//! A lock this client holds (an operation's key, a run's, the drain
//! round's): given back exactly once, whichever way its task ends.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Engine, LockName};

#[derive(Default)]
pub(crate) struct Held(Option<LockName>);

impl Held {
    /// `granted`: the lock answer; a lock not granted is not held.
    pub fn new(name: LockName, granted: bool) -> Held {
        Held(granted.then_some(name))
    }

    #[cfg(feature = "workflows")]
    pub fn is_held(&self) -> bool {
        self.0.is_some()
    }
}

impl Engine {
    pub(crate) fn release(&mut self, held: &mut Held) {
        if let Some(name) = held.0.take() {
            self.push(Action::Unlock { name });
        }
    }
}
