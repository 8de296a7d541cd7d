//! Where pending operations live: memory, IndexedDB, or the caller's adapter.
//!
//! All three hold the same plain records (see `record_js`), so every record
//! that comes back goes through the same validation, whatever stored it.

use std::cell::RefCell;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbTransactionMode};

use super::errors::failure;
use super::idb::{committed, request, OUTBOX, QUARANTINE};
use super::js::{get, now_ms, Fields};
use super::small_map::SmallMap;

pub enum Store {
    Memory(RefCell<SmallMap<JsValue>>),
    IndexedDb(IdbDatabase),
    Adapter(JsValue),
}

fn storage_error(action: &str, cause: JsValue) -> JsValue {
    // Errors already shaped by the idb helpers pass through unchanged.
    if get(&cause, "durafetch").as_bool() == Some(true) {
        return cause;
    }
    failure("storage").set("action", action).set("cause", cause).build()
}

impl Store {
    pub fn name(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::IndexedDb(_) => "indexeddb",
            Store::Adapter(_) => "adapter",
        }
    }

    /// Survives a reload or a crash.
    pub fn is_persistent(&self) -> bool {
        !matches!(self, Store::Memory(_))
    }

    async fn call_adapter(adapter: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
        let f: Function = get(adapter, method).dyn_into().map_err(|e| storage_error(method, e))?;
        let result = f.apply(adapter, args).map_err(|e| storage_error(method, e))?;
        // A sync adapter is fine too: wrap whatever came back.
        JsFuture::from(Promise::resolve(&result)).await.map_err(|e| storage_error(method, e))
    }

    fn tx(db: &IdbDatabase, stores: &[&str], mode: IdbTransactionMode) -> Result<web_sys::IdbTransaction, JsValue> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        db.transaction_with_str_sequence_and_mode(&names, mode).map_err(|e| storage_error("transaction", e))
    }

    pub async fn put(&self, record: &JsValue, key: &str) -> Result<(), JsValue> {
        match self {
            Store::Memory(map) => {
                map.borrow_mut().insert(key, record.clone());
                Ok(())
            }
            Store::IndexedDb(db) => {
                let tx = Self::tx(db, &[OUTBOX], IdbTransactionMode::Readwrite)?;
                let store = tx.object_store(OUTBOX).map_err(|e| storage_error("put", e))?;
                store.put(record).map_err(|e| storage_error("put", e))?;
                committed(&tx, "put").await
            }
            Store::Adapter(a) => Self::call_adapter(a, "put", &Array::of1(record)).await.map(drop),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<JsValue>, JsValue> {
        let found = match self {
            Store::Memory(map) => map.borrow().get(key).cloned().unwrap_or(JsValue::UNDEFINED),
            Store::IndexedDb(db) => {
                let tx = Self::tx(db, &[OUTBOX], IdbTransactionMode::Readonly)?;
                let store = tx.object_store(OUTBOX).map_err(|e| storage_error("get", e))?;
                let req = store.get(&JsValue::from_str(key)).map_err(|e| storage_error("get", e))?;
                request(&req, "get").await?
            }
            Store::Adapter(a) => Self::call_adapter(a, "get", &Array::of1(&JsValue::from_str(key))).await?,
        };
        Ok(if found.is_undefined() || found.is_null() { None } else { Some(found) })
    }

    pub async fn delete(&self, key: &str) -> Result<(), JsValue> {
        match self {
            Store::Memory(map) => {
                map.borrow_mut().remove(key);
                Ok(())
            }
            Store::IndexedDb(db) => {
                let tx = Self::tx(db, &[OUTBOX], IdbTransactionMode::Readwrite)?;
                let store = tx.object_store(OUTBOX).map_err(|e| storage_error("delete", e))?;
                store.delete(&JsValue::from_str(key)).map_err(|e| storage_error("delete", e))?;
                committed(&tx, "delete").await
            }
            Store::Adapter(a) => Self::call_adapter(a, "delete", &Array::of1(&JsValue::from_str(key))).await.map(drop),
        }
    }

    /// Every stored value, read or not.
    pub async fn list(&self) -> Result<Vec<JsValue>, JsValue> {
        let all = match self {
            Store::Memory(map) => return Ok(map.borrow().iter().map(|(_, v)| v.clone()).collect()),
            Store::IndexedDb(db) => {
                let tx = Self::tx(db, &[OUTBOX], IdbTransactionMode::Readonly)?;
                let store = tx.object_store(OUTBOX).map_err(|e| storage_error("list", e))?;
                let req = store.get_all().map_err(|e| storage_error("list", e))?;
                request(&req, "list").await?
            }
            Store::Adapter(a) => Self::call_adapter(a, "list", &Array::new()).await?,
        };
        if !Array::is_array(&all) {
            return Err(storage_error("list", JsValue::from_str("list() must return an array of records")));
        }
        Ok(Array::from(&all).iter().collect())
    }

    /// Moves an unreadable record out of the way without losing it. IndexedDB
    /// keeps it in a `quarantine` store (one transaction: never both, never
    /// neither); other stores keep it where it is and it is skipped.
    pub async fn quarantine(&self, primary_key: &JsValue, value: &JsValue, reason: &str) -> Result<bool, JsValue> {
        let Store::IndexedDb(db) = self else {
            return Ok(false);
        };
        let tx = Self::tx(db, &[OUTBOX, QUARANTINE], IdbTransactionMode::Readwrite)?;
        let outbox = tx.object_store(OUTBOX).map_err(|e| storage_error("quarantine", e))?;
        let quarantine = tx.object_store(QUARANTINE).map_err(|e| storage_error("quarantine", e))?;
        let entry = Fields::new().set("key", primary_key).set("value", value).set("reason", reason).set("at", now_ms());
        quarantine.add(&entry.build()).map_err(|e| storage_error("quarantine", e))?;
        outbox.delete(primary_key).map_err(|e| storage_error("quarantine", e))?;
        committed(&tx, "quarantine").await.map(|_| true)
    }

    pub fn close(&self) {
        if let Store::IndexedDb(db) = self {
            db.close();
        }
    }
}
