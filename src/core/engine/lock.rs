//! A lock this client holds (an operation's key, a run's, the drain
//! round's): given back exactly once, whichever way its task ends.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Engine, LockName, Mutant};

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
    /// Gives the lock back, unless a cancelled attempt of its key may still
    /// be on the wire: then it is kept until that fetch ends, so no other
    /// tab sends the key meanwhile (attempt.rs, linger_ended).
    pub(crate) fn release(&mut self, held: &mut Held) {
        match held.0.take() {
            Some(LockName::Key(key)) if self.is_lingering(&key) && !self.is(Mutant::UnlockWhileLingering) => {
                self.linger_locks.push(key);
            }
            Some(name) => self.push(Action::Unlock { name }),
            None => {}
        }
    }

    /// The last cancelled attempt of `key` ended: a lock kept for it goes.
    pub(crate) fn linger_over(&mut self, key: &str) {
        if let Some(i) = self.linger_locks.iter().position(|k| k == key) {
            let name = LockName::Key(self.linger_locks.swap_remove(i));
            self.push(Action::Unlock { name });
        }
    }
}
