//! The shipped IndexedDB store and record codec in a dedicated worker (no `window` there).
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);
#[path = "cases/idb.rs"]
mod idb_cases;
