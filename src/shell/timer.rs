//! Waits between attempts that end early when the caller aborts or when
//! `resume()` asks for everything to be resent now.

use js_sys::{Function, Promise};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::js::{clear_timeout, set_timeout};

/// Sleeps `ms`, or less if `signal` aborts or `wake` is called. The promise's
/// own resolve function is the timer and listener callback, so a wait costs
/// no Rust closure.
pub async fn sleep(ms: u64, signal: &AbortSignal, on_wake: impl FnOnce(Function)) {
    if ms == 0 || signal.aborted() {
        return;
    }
    let mut resolve_slot: Option<Function> = None;
    let promise = Promise::new(&mut |resolve, _reject| resolve_slot = Some(resolve));
    let Some(resolve) = resolve_slot else {
        return;
    };
    let timer = set_timeout(&resolve, ms);
    let _ = signal.add_event_listener_with_callback("abort", &resolve);
    on_wake(resolve.clone());
    let _ = JsFuture::from(promise).await;
    clear_timeout(&timer);
    let _ = signal.remove_event_listener_with_callback("abort", &resolve);
}
