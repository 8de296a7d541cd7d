//! Waits between attempts that end early when the caller aborts or when
//! `resume()` asks for everything to be resent now.

use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::js::{clear_timeout, set_timeout};

/// Sleeps `ms`, or less if `signal` aborts or one of `wakers` is called.
/// The promise's own resolve function is the timer and listener callback, so
/// a wait costs no Rust closure; it is in `wakers` only while it waits.
pub async fn sleep(ms: u64, signal: Option<&AbortSignal>, wakers: &RefCell<Vec<Function>>) {
    if ms == 0 || signal.is_some_and(|s| s.aborted()) {
        return;
    }
    let mut resolve_slot: Option<Function> = None;
    let promise = Promise::new(&mut |resolve, _reject| resolve_slot = Some(resolve));
    let Some(resolve) = resolve_slot else {
        return;
    };
    let timer = set_timeout(&resolve, ms);
    if let Some(s) = signal {
        let _ = s.add_event_listener_with_callback("abort", &resolve);
    }
    wakers.borrow_mut().push(resolve.clone());
    let _ = JsFuture::from(promise).await;
    clear_timeout(&timer);
    wakers.borrow_mut().retain(|w| w != &resolve);
    if let Some(s) = signal {
        let _ = s.remove_event_listener_with_callback("abort", &resolve);
    }
}
