//! The shipped IndexedDB store and record codec in a headless Chromium page.
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
#[path = "cases/idb.rs"]
mod idb_cases;
