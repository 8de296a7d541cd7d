//! A single-threaded executor on a virtual clock.
//!
//! The shell is async code on a JS event loop; the model is the same async
//! code on this loop, so each `.await` of the shell is an `.await` here and a
//! crash can land between any two of them. Time only moves when no task can
//! run: the next event (a timer, a packet arriving) is popped in (time, order)
//! order, so a seed always replays the same interleaving. A crash drops every
//! task of one client instance: its in-memory state, its waits, its locks
//! (guards drop with the futures, as Web Locks die with a tab).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type Task = Pin<Box<dyn Future<Output = ()>>>;
type Event = Box<dyn FnOnce()>;

struct TaskWaker {
    id: u64,
    ready: Arc<Mutex<VecDeque<u64>>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.lock().unwrap().push_back(self.id);
    }
}

#[derive(Default)]
pub struct Exec {
    now: Cell<u64>,
    seq: Cell<u64>,
    events: RefCell<BTreeMap<(u64, u64), Event>>,
    tasks: RefCell<BTreeMap<u64, (u64, Task)>>,
    next_task: Cell<u64>,
    ready: Arc<Mutex<VecDeque<u64>>>,
    dead: RefCell<BTreeSet<u64>>,
    pub polls: Cell<u64>,
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

    pub fn spawn(&self, owner: u64, task: impl Future<Output = ()> + 'static) {
        if self.dead.borrow().contains(&owner) {
            return;
        }
        let id = self.next_task.get() + 1;
        self.next_task.set(id);
        self.tasks.borrow_mut().insert(id, (owner, Box::pin(task)));
        self.ready.lock().unwrap().push_back(id);
    }

    /// Every task of `owner` is dropped as soon as the running poll returns.
    pub fn kill(&self, owner: u64) {
        self.dead.borrow_mut().insert(owner);
    }

    fn reap(&self) {
        let doomed: Vec<(u64, Task)> = {
            let dead = self.dead.borrow();
            let mut tasks = self.tasks.borrow_mut();
            let ids: Vec<u64> = tasks.iter().filter(|(_, (o, _))| dead.contains(o)).map(|(id, _)| *id).collect();
            ids.iter().filter_map(|id| tasks.remove(id)).collect()
        };
        // Dropped outside the borrows: guards release locks and may wake others.
        drop(doomed);
    }

    fn poll(&self, id: u64) {
        let Some((owner, mut task)) = self.tasks.borrow_mut().remove(&id) else {
            return;
        };
        let waker = Waker::from(Arc::new(TaskWaker { id, ready: self.ready.clone() }));
        self.polls.set(self.polls.get() + 1);
        let pending = task.as_mut().poll(&mut Context::from_waker(&waker)).is_pending();
        if pending && !self.dead.borrow().contains(&owner) {
            self.tasks.borrow_mut().insert(id, (owner, task));
        } else {
            drop(task);
        }
        self.reap();
    }

    /// Runs tasks and events up to virtual time `until`. False when more
    /// than `max_polls` polls were spent (a runaway seed).
    pub fn run(&self, until: u64, max_polls: u64) -> bool {
        loop {
            loop {
                let next = self.ready.lock().unwrap().pop_front();
                let Some(id) = next else { break };
                self.poll(id);
                if self.polls.get() > max_polls {
                    return false;
                }
            }
            let first = self.events.borrow().first_key_value().map(|(k, _)| *k);
            match first {
                Some(key) if key.0 <= until => {
                    let event = self.events.borrow_mut().remove(&key);
                    self.now.set(key.0);
                    if let Some(event) = event {
                        event();
                    }
                    self.reap();
                }
                _ => return true,
            }
        }
    }

    /// Breaks the Rc cycles of a finished seed.
    pub fn clear(&self) {
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        let events = std::mem::take(&mut *self.events.borrow_mut());
        drop(tasks);
        drop(events);
    }
}

/// A one-shot value: the first `fill` wins, later ones are ignored (a
/// timeout racing an answer, an abort racing a timer).
pub struct Slot<T>(Rc<RefCell<SlotState<T>>>);

struct SlotState<T> {
    value: Option<T>,
    taken: bool,
    waker: Option<Waker>,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

impl<T> Slot<T> {
    pub fn new() -> Self {
        Slot(Rc::new(RefCell::new(SlotState { value: None, taken: false, waker: None })))
    }

    pub fn fill(&self, value: T) {
        let waker = {
            let mut s = self.0.borrow_mut();
            if s.taken || s.value.is_some() {
                return;
            }
            s.value = Some(value);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub fn same(&self, other: &Slot<T>) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    pub fn wait(&self) -> SlotWait<T> {
        SlotWait(self.clone())
    }
}

pub struct SlotWait<T>(Slot<T>);

impl<T> Future for SlotWait<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = (self.0).0.borrow_mut();
        match s.value.take() {
            Some(v) => {
                s.taken = true;
                Poll::Ready(v)
            }
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
