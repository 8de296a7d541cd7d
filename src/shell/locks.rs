//! Locks that keep one operation from being in flight twice at once.
//!
//! Within one client a set of held names is enough. Across tabs and workers
//! of one origin, which share one IndexedDB outbox, the Web Locks API
//! (`navigator.locks`) does it: a lock is released when its holder's promise
//! settles or its context dies, so a crashed tab never leaves one behind.
//! Where `navigator.locks` does not exist (Node, Deno, workerd) only the
//! in-process set applies, shared by every client of this wasm instance: an
//! adapter store shared by several processes must serialise them itself.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::js::{get, Fields};
use super::small_map::SmallMap;

thread_local! {
    /// Names held by any client in this realm (one wasm instance).
    static HELD: Rc<RefCell<SmallMap<()>>> = Rc::default();
}

pub struct Locks {
    held: Rc<RefCell<SmallMap<()>>>,
}

impl Default for Locks {
    fn default() -> Self {
        Locks { held: HELD.with(Rc::clone) }
    }
}

/// Releases the lock when dropped.
#[must_use]
pub struct LockGuard {
    name: String,
    held: Rc<RefCell<SmallMap<()>>>,
    release: Option<Function>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.held.borrow_mut().remove(&self.name);
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

fn web_locks() -> Option<JsValue> {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    get(&locks, "request").is_function().then_some(locks)
}

fn deferred() -> (Promise, Option<Function>) {
    let mut slot = None;
    let promise = Promise::new(&mut |resolve, _| slot = Some(resolve));
    (promise, slot)
}

impl Locks {
    /// Takes `name`, or returns `None` at once if someone holds it. With
    /// `wait`, waits for it instead (used by the drainer, which has nothing
    /// better to do).
    pub async fn acquire(&self, name: &str, wait: bool) -> Option<LockGuard> {
        // Held here already: the holder is this client, which will look again.
        if self.held.borrow().contains_key(name) {
            return None;
        }
        self.held.borrow_mut().insert(name, ());
        let mut guard = LockGuard { name: name.to_string(), held: self.held.clone(), release: None };
        let Some(locks) = web_locks() else {
            return Some(guard);
        };
        let (granted, granted_resolve) = deferred();
        let (hold, hold_release) = deferred();
        let (Some(granted_resolve), Some(hold_release)) = (granted_resolve, hold_release) else {
            return None;
        };
        let on_grant = {
            let hold = hold.clone();
            let release = hold_release.clone();
            Closure::once_into_js(move |lock: JsValue| -> JsValue {
                let _ = granted_resolve.call1(&JsValue::NULL, &JsValue::from_bool(!lock.is_null()));
                if lock.is_null() {
                    let _ = release.call0(&JsValue::NULL);
                }
                hold.into()
            })
        };
        let options = Fields::new().set("ifAvailable", !wait).build();
        let request = get(&locks, "request").unchecked_into::<Function>();
        let name_js = JsValue::from_str(&["durafetch:", name].concat());
        if request.call3(&locks, &name_js, &options, &on_grant).is_err() {
            // Locks refused (e.g. an opaque origin): fall back to this client only.
            return Some(guard);
        }
        match JsFuture::from(granted).await.ok().and_then(|v| v.as_bool()) {
            Some(true) => {
                guard.release = Some(hold_release);
                Some(guard)
            }
            _ => None,
        }
    }
}
