//! The virtual clock: timed events run in (time, order) order, so a seed
//! always replays the same interleaving. Nothing sleeps; time jumps to the
//! next event. Hosts check that they are still alive in their callbacks: a
//! crashed tab's timers and replies fire into nothing.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

type Event = Box<dyn FnOnce()>;

#[derive(Default)]
pub struct Exec {
    now: Cell<u64>,
    seq: Cell<u64>,
    events: RefCell<BTreeMap<(u64, u64), Event>>,
    pub steps: Cell<u64>,
}

impl Exec {
    /// Virtual monotonic time in ms (what setTimeout runs on).
    pub fn now(&self) -> u64 {
        self.now.get()
    }

    pub fn at(&self, time: u64, event: impl FnOnce() + 'static) {
        self.seq.set(self.seq.get() + 1);
        let key = (time.max(self.now()), self.seq.get());
        self.events.borrow_mut().insert(key, Box::new(event));
    }

    pub fn after(&self, delay: u64, event: impl FnOnce() + 'static) {
        self.at(self.now().saturating_add(delay), event);
    }

    /// Runs events up to virtual time `until`. False when more than
    /// `max_steps` ran (a runaway seed).
    pub fn run(&self, until: u64, max_steps: u64) -> bool {
        loop {
            let first = self.events.borrow().first_key_value().map(|(k, _)| *k);
            match first {
                Some(key) if key.0 <= until => {
                    let event = self.events.borrow_mut().remove(&key);
                    self.now.set(key.0);
                    self.steps.set(self.steps.get() + 1);
                    if self.steps.get() > max_steps {
                        return false;
                    }
                    if let Some(event) = event {
                        event();
                    }
                }
                _ => return true,
            }
        }
    }

    /// Breaks the Rc cycles of a finished seed.
    pub fn clear(&self) {
        let events = std::mem::take(&mut *self.events.borrow_mut());
        drop(events);
    }
}
