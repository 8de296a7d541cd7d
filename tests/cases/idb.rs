// The shipped IndexedDB store (pkg-template/io/idb.js) holding records the
// shipped codec (src/shell/record_js.rs) writes, in a real browser: what
// goes in comes back and decodes to the same record. Included by
// ../idb_browser.rs (a page) and idb_worker.rs (a dedicated worker).
use durafetch::__testing::{decode, encode};
use durafetch::core::key::fingerprint;
use durafetch::core::record::{DecodeError, Record};
use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(module = "/pkg-template/io/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = openIdb)]
    fn open_idb(name: &str) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    type IdbStore;
    #[wasm_bindgen(method)]
    fn get(this: &IdbStore, key: &str) -> Promise;
    #[wasm_bindgen(method)]
    fn put(this: &IdbStore, record: &JsValue) -> Promise;
    #[wasm_bindgen(method, js_name = delete)]
    fn delete(this: &IdbStore, key: &str) -> Promise;
    #[wasm_bindgen(method)]
    fn list(this: &IdbStore) -> Promise;
    #[wasm_bindgen(method)]
    fn quarantine(this: &IdbStore, value: &JsValue, reason: &str) -> Promise;
    #[wasm_bindgen(method)]
    fn close(this: &IdbStore);
}

async fn done(p: Promise) -> JsValue {
    JsFuture::from(p).await.expect("the store call succeeds")
}

fn record(key: &str, body: &[u8]) -> Record {
    let url = "http://127.0.0.1:9/orders".to_string();
    Record {
        key: key.into(),
        method: "POST".into(),
        fingerprint: fingerprint("POST", &url, body),
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(body.to_vec()),
        attempts: 1,
        created_at: 1_700_000_000_000.0,
        seq: 0.0,
        next_attempt_at: 1_700_000_000_100.0,
        not_before: 0.0,
        expired_at: 0.0,
    }
}

async fn fresh(name: &str) -> IdbStore {
    let store: IdbStore = done(open_idb(name)).await.unchecked_into();
    for v in Array::from(&done(store.list()).await).iter() {
        let key = Reflect::get(&v, &"key".into()).unwrap().as_string().unwrap();
        done(store.delete(&key)).await;
    }
    store
}

#[wasm_bindgen_test]
async fn put_get_list_delete_round_trip() {
    let store = fresh("durafetch-test-roundtrip").await;
    let r = record("k-1", b"{\"amount\":42}");
    done(store.put(&encode(&r))).await;
    let back = done(store.get("k-1")).await;
    assert_eq!(decode(&back), Ok(r.clone()));
    assert_eq!(Array::from(&done(store.list()).await).length(), 1);
    done(store.delete("k-1")).await;
    assert!(done(store.get("k-1")).await.is_undefined());
    store.close();
}

#[wasm_bindgen_test]
async fn records_survive_closing_and_reopening() {
    let store = fresh("durafetch-test-reopen").await;
    let r = record("k-2", &[0, 1, 2, 255]);
    done(store.put(&encode(&r))).await;
    store.close();
    let again: IdbStore = done(open_idb("durafetch-test-reopen")).await.unchecked_into();
    let back = done(again.get("k-2")).await;
    assert_eq!(decode(&back).map(|r| r.body), Ok(Some(vec![0, 1, 2, 255])));
    again.close();
}

#[wasm_bindgen_test]
async fn unreadable_records_move_to_quarantine_in_one_transaction() {
    let store = fresh("durafetch-test-quarantine").await;
    let junk = js_sys::Object::new();
    Reflect::set(&junk, &"key".into(), &"junk".into()).unwrap();
    Reflect::set(&junk, &"v".into(), &JsValue::from(99)).unwrap();
    done(store.put(&junk)).await;
    let good = record("k-3", b"x");
    done(store.put(&encode(&good))).await;

    let listed = Array::from(&done(store.list()).await);
    let bad: Vec<JsValue> = listed.iter().filter(|v| decode(v).is_err()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(decode(&bad[0]), Err(DecodeError::UnknownSchema));
    assert_eq!(done(store.quarantine(&bad[0], "unknown schema")).await.as_bool(), Some(true));
    let left = Array::from(&done(store.list()).await);
    assert_eq!(left.length(), 1);
    assert_eq!(decode(&left.get(0)), Ok(good));
    store.close();
}

#[wasm_bindgen_test]
async fn a_corrupted_body_fails_the_fingerprint_check() {
    let store = fresh("durafetch-test-fingerprint").await;
    let r = record("k-4", b"pay 10");
    let encoded = encode(&r);
    Reflect::set(&encoded, &"body".into(), &js_sys::Uint8Array::from(&b"pay 99"[..])).unwrap();
    done(store.put(&encoded)).await;
    let back = done(store.get("k-4")).await;
    assert_eq!(decode(&back), Err(DecodeError::FingerprintMismatch));
    store.close();
}
