//! The store and the Web Locks every client of the seed shares.
//!
//! Store calls complete after a round trip and commit when they complete,
//! whether or not the tab that made them is still alive (the database got
//! them); a crash before the call is made is a crash point of the host.
//! Web Locks are granted in request order and die with their tab.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use super::world::Sim;

/// IndexedDB round trips, in virtual ms.
pub const STORE_MS: u64 = 1;
pub const LIST_MS: u64 = 2;
/// How long a delete waits for other writes to share its transaction
/// (pkg-template/io/policy.js DELETE_DELAY_MS).
pub const DELETE_DELAY_MS: u64 = 8;

type Grant = Box<dyn FnOnce(bool)>;

#[derive(Default)]
pub struct WebLocks {
    held: BTreeMap<String, u64>,
    queue: BTreeMap<String, VecDeque<(u64, Grant)>>,
}

impl Sim {
    /// `navigator.locks.request(name, { ifAvailable: !wait })`: `grant`
    /// hears true when it holds the lock, false when not available.
    pub fn lock_request(self: &Rc<Self>, name: &str, instance: u64, wait: bool, grant: Grant) {
        let mut locks = self.locks.borrow_mut();
        if !locks.held.contains_key(name) {
            locks.held.insert(name.to_string(), instance);
            drop(locks);
            return self.exec.after(0, move || grant(true));
        }
        if !wait {
            drop(locks);
            return self.exec.after(0, move || grant(false));
        }
        locks.queue.entry(name.to_string()).or_default().push_back((instance, grant));
    }

    pub fn lock_release(self: &Rc<Self>, name: &str, instance: u64) {
        let next = {
            let mut locks = self.locks.borrow_mut();
            if locks.held.get(name) != Some(&instance) {
                return;
            }
            locks.held.remove(name);
            let next = locks.queue.get_mut(name).and_then(|q| q.pop_front());
            if let Some((holder, _)) = &next {
                locks.held.insert(name.to_string(), *holder);
            }
            next
        };
        if let Some((_, grant)) = next {
            self.exec.after(0, move || grant(true));
        }
    }

    /// A tab died: its locks and its requests go with it.
    pub fn locks_die_with(self: &Rc<Self>, instance: u64) {
        let held: Vec<String> = {
            let mut locks = self.locks.borrow_mut();
            for queue in locks.queue.values_mut() {
                queue.retain(|(i, _)| *i != instance);
            }
            locks.held.iter().filter(|(_, i)| **i == instance).map(|(n, _)| n.clone()).collect()
        };
        for name in held {
            self.lock_release(&name, instance);
        }
    }
}
