//! The shared store and Web Locks, and the client's awaits on them
//! (src/shell/store.rs, src/shell/locks.rs, src/shell/record_js.rs).
//! A write commits at the end of its round trip; a crash point follows
//! every await.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::{Rc, Weak};

use durafetch::core::record::Record;
use durafetch::core::value::Value;

use super::client::Client;
use super::encode::encode;
use super::exec::Slot;
use super::world::Sim;

/// IndexedDB round trips, in virtual ms.
const STORE_MS: u64 = 1;
const LIST_MS: u64 = 2;

impl Client {
    pub async fn store_get(&self, key: &str, label: &'static str) -> Option<Value> {
        self.timer(STORE_MS).await;
        let value = self.sim.store.borrow().get(key).cloned();
        self.step(label).await;
        value
    }

    pub async fn store_put(&self, record: &Record, label: &'static str) {
        self.timer(STORE_MS).await;
        self.sim.store.borrow_mut().insert(record.key.clone(), encode(record));
        self.sim.ledger.borrow_mut().record_written(&record.key);
        self.sim.log(|| format!("c{} put {} attempts {} next {}", self.instance, record.key, record.attempts, record.next_attempt_at));
        self.step(label).await;
    }

    /// `settled`: deleted after a definitive answer (checked: no attempt after).
    pub async fn store_delete(&self, key: &str, settled: bool, label: &'static str) {
        self.timer(STORE_MS).await;
        self.sim.store.borrow_mut().remove(key);
        if settled {
            self.sim.ledger.borrow_mut().settled(key, self.sim.exec.now());
        }
        self.sim.log(|| format!("c{} delete {key}", self.instance));
        self.step(label).await;
    }

    pub async fn store_list(&self, label: &'static str) -> Vec<Value> {
        self.timer(LIST_MS).await;
        let values = self.sim.store.borrow().values().cloned().collect();
        self.step(label).await;
        values
    }

    /// src/shell/locks.rs `Locks::acquire`.
    pub async fn acquire(&self, name: &str, wait: bool, label: &'static str) -> Option<LockGuard> {
        if self.held.borrow().contains(name) {
            return None;
        }
        self.held.borrow_mut().insert(name.to_string());
        let mut guard = LockGuard { name: name.to_string(), held: self.held.clone(), web: None };
        if !self.sim.cfg.web_locks {
            return Some(guard);
        }
        let waiter = self.sim.lock_request(name, self.instance, wait);
        self.timer(0).await;
        let granted = match &waiter {
            None => false,
            Some(w) => {
                w.granted.wait().await;
                w.consumed.set(true);
                guard.web = Some(self.sim.clone());
                true
            }
        };
        self.step(label).await;
        granted.then_some(guard)
    }

}

impl Sim {
    /// `navigator.locks.request(name, {ifAvailable: !wait})`: `None` when
    /// not available and not waiting; otherwise a waiter, granted now or later.
    pub fn lock_request(self: &Rc<Self>, name: &str, instance: u64, wait: bool) -> Option<Rc<Waiter>> {
        let mut locks = self.locks.borrow_mut();
        let waiter = Rc::new(Waiter {
            sim: self.clone(),
            name: name.to_string(),
            instance,
            granted: Slot::new(),
            was_granted: Cell::new(false),
            consumed: Cell::new(false),
        });
        if !locks.held.contains_key(name) {
            locks.held.insert(name.to_string(), instance);
            waiter.was_granted.set(true);
            waiter.granted.fill(());
            return Some(waiter);
        }
        if !wait {
            return None;
        }
        locks.queue.entry(name.to_string()).or_default().push_back(Rc::downgrade(&waiter));
        Some(waiter)
    }

    pub fn lock_release(&self, name: &str) {
        let next = {
            let mut locks = self.locks.borrow_mut();
            locks.held.remove(name);
            let mut next = None;
            while let Some(w) = locks.queue.get_mut(name).and_then(|q| q.pop_front()) {
                if let Some(w) = w.upgrade() {
                    locks.held.insert(name.to_string(), w.instance);
                    w.was_granted.set(true);
                    next = Some(w);
                    break;
                }
            }
            next
        };
        if let Some(w) = next {
            w.granted.fill(());
        }
    }

}

#[derive(Default)]
pub struct WebLocks {
    held: BTreeMap<String, u64>,
    queue: BTreeMap<String, VecDeque<Weak<Waiter>>>,
}

/// One pending `navigator.locks.request`. Dropped unconsumed after a grant
/// (its tab died in between): the lock goes to the next in line.
pub struct Waiter {
    sim: Rc<Sim>,
    name: String,
    instance: u64,
    pub granted: Slot<()>,
    was_granted: Cell<bool>,
    pub consumed: Cell<bool>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if self.was_granted.get() && !self.consumed.get() {
            self.sim.lock_release(&self.name);
        }
    }
}

/// Releases the in-process name and, if taken, the Web Lock.
pub struct LockGuard {
    pub name: String,
    pub held: Rc<RefCell<BTreeSet<String>>>,
    pub web: Option<Rc<Sim>>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.held.borrow_mut().remove(&self.name);
        if let Some(sim) = self.web.take() {
            sim.lock_release(&self.name);
        }
    }
}
