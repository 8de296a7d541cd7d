//! IndexedDB through web-sys, as futures.
//!
//! A request's `onsuccess`/`onerror` are set to the resolve/reject functions
//! of a Promise, so waiting on a request costs no Rust closure. Writes count
//! as done when their transaction completes, not when the request succeeds:
//! only then are they committed.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbFactory, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest, IdbTransaction};

use super::errors::failure;
use super::js::get;

pub const DB_VERSION: u32 = 1;
pub const OUTBOX: &str = "outbox";
pub const QUARANTINE: &str = "quarantine";

fn storage_error(action: &str, cause: JsValue) -> JsValue {
    failure("storage").set("action", action).set("cause", cause).build()
}

/// The DOMException behind a failed request or transaction.
fn error_of(target: &JsValue) -> JsValue {
    let error = get(target, "error");
    if error.is_null() || error.is_undefined() {
        JsValue::from_str("IndexedDB request failed")
    } else {
        error
    }
}

pub async fn request(req: &IdbRequest, action: &str) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    match JsFuture::from(promise).await {
        Ok(_) => req.result().map_err(|e| storage_error(action, e)),
        Err(_) => Err(storage_error(action, error_of(req))),
    }
}

pub async fn committed(tx: &IdbTransaction, action: &str) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(promise).await.map(drop).map_err(|_| storage_error(action, error_of(tx)))
}

/// Opens (and creates or upgrades) the outbox database.
///
/// Version 1 has two stores: `outbox` (records by `key`) and `quarantine`
/// (records we could not read, kept, never resent). A later version adds its
/// migration in `upgrade` under `if old < N`.
pub async fn open(name: &str) -> Result<IdbDatabase, JsValue> {
    let factory: IdbFactory = get(&js_sys::global(), "indexedDB")
        .dyn_into()
        .map_err(|_| failure("storage").set("action", "open").set("cause", "indexedDB is not available here").build())?;
    let open: IdbOpenDbRequest = factory.open_with_u32(name, DB_VERSION).map_err(|e| storage_error("open", e))?;
    let upgrade = Closure::once(move |event: web_sys::IdbVersionChangeEvent| {
        let Some(req) = event.target().and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok()) else {
            return;
        };
        let Ok(db) = req.result().and_then(|db| db.dyn_into::<IdbDatabase>()) else {
            return;
        };
        if event.old_version() < 1.0 {
            let outbox = IdbObjectStoreParameters::new();
            outbox.set_key_path(&JsValue::from_str("key"));
            let _ = db.create_object_store_with_optional_parameters(OUTBOX, &outbox);
            let quarantine = IdbObjectStoreParameters::new();
            quarantine.set_auto_increment(true);
            let _ = db.create_object_store_with_optional_parameters(QUARANTINE, &quarantine);
        }
    });
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    // Another tab holding an older version open blocks the upgrade: say so
    // instead of hanging.
    let blocked = Promise::new(&mut |_resolve: Function, reject: Function| open.set_onblocked(Some(&reject)));
    let opened = request(&open, "open");
    let db = futures_race(opened, blocked).await?;
    drop(upgrade);
    let db: IdbDatabase = db.dyn_into().map_err(|e| storage_error("open", e))?;
    Ok(db)
}

async fn futures_race(opened: impl std::future::Future<Output = Result<JsValue, JsValue>>, blocked: Promise) -> Result<JsValue, JsValue> {
    use std::future::Future;
    use std::pin::pin;
    use std::task::Poll;
    let mut opened = pin!(opened);
    let mut blocked = pin!(JsFuture::from(blocked));
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(r) = opened.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        if blocked.as_mut().poll(cx).is_ready() {
            let cause = "the database upgrade is blocked by another tab with an older version open: close it";
            return Poll::Ready(Err(failure("storage").set("action", "open").set("cause", cause).build()));
        }
        Poll::Pending
    })
    .await
}
