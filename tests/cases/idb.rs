// The IndexedDB store, exercised for real. Included by ../idb_browser.rs (a
// page) and idb_worker.rs (a dedicated worker): the same cases in both.
use durafetch::__testing::{decode, encode, open, Store};
use durafetch::core::key::fingerprint;
use durafetch::core::record::{DecodeError, Record};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

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

async fn fresh(name: &str) -> Store {
    let store = Store::IndexedDb(open(name).await.expect("open"));
    for v in store.list().await.expect("list") {
        let key = Reflect::get(&v, &"key".into()).unwrap().as_string().unwrap();
        store.delete(&key).await.expect("delete");
    }
    store
}

#[wasm_bindgen_test]
async fn put_get_list_delete_round_trip() {
    let store = fresh("durafetch-test-roundtrip").await;
    let r = record("k-1", b"{\"amount\":42}");
    store.put(&encode(&r), &r.key).await.expect("put");
    let back = store.get("k-1").await.expect("get").expect("stored");
    assert_eq!(decode(&back), Ok(r.clone()));
    assert_eq!(store.list().await.expect("list").len(), 1);
    store.delete("k-1").await.expect("delete");
    assert!(store.get("k-1").await.expect("get").is_none());
    store.close();
}

#[wasm_bindgen_test]
async fn records_survive_closing_and_reopening() {
    let store = fresh("durafetch-test-reopen").await;
    let r = record("k-2", &[0, 1, 2, 255]);
    store.put(&encode(&r), &r.key).await.expect("put");
    store.close();
    let again = Store::IndexedDb(open("durafetch-test-reopen").await.expect("reopen"));
    let back = again.get("k-2").await.expect("get").expect("still there");
    assert_eq!(decode(&back).map(|r| r.body), Ok(Some(vec![0, 1, 2, 255])));
    again.close();
}

#[wasm_bindgen_test]
async fn unreadable_records_move_to_quarantine_in_one_transaction() {
    let store = fresh("durafetch-test-quarantine").await;
    let junk = js_sys::Object::new();
    Reflect::set(&junk, &"key".into(), &"junk".into()).unwrap();
    Reflect::set(&junk, &"v".into(), &JsValue::from(99)).unwrap();
    store.put(&junk, "junk").await.expect("put junk");
    let good = record("k-3", b"x");
    store.put(&encode(&good), &good.key).await.expect("put good");

    let listed = store.list().await.expect("list");
    let bad: Vec<_> = listed.iter().filter(|v| decode(v).is_err()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(decode(bad[0]), Err(DecodeError::UnknownSchema));
    let moved = store.quarantine(&"junk".into(), bad[0], "unknown schema").await.expect("quarantine");
    assert!(moved);
    let left = store.list().await.expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(decode(&left[0]), Ok(good));
    store.close();
}

#[wasm_bindgen_test]
async fn a_corrupted_body_fails_the_fingerprint_check() {
    let store = fresh("durafetch-test-fingerprint").await;
    let r = record("k-4", b"pay 10");
    let encoded = encode(&r);
    Reflect::set(&encoded, &"body".into(), &js_sys::Uint8Array::from(&b"pay 99"[..])).unwrap();
    store.put(&encoded, &r.key).await.expect("put");
    let back = store.get("k-4").await.expect("get").expect("stored");
    assert_eq!(decode(&back), Err(DecodeError::FingerprintMismatch));
    store.close();
}
