//! Keyed places from JavaScript, in headless Chromium
//! (scripts/ci/wasm-browser.sh): `fire` with `args`, `count`, `keys`, the
//! `top`, a prefix search, the errors that name a key or an argument, and
//! IndexedDB across a reopen (the keys read from their key records).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, JSON};
use petrichain_web::{verify_key_proof, verify_place_proof, JsLedger, JsModel, JsStream};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

mod websync;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

const BANK: &str = include_str!("../../www/examples/bank.json");

async fn count(stream: &JsStream, key: &str) -> f64 {
    ok(stream.count("balance".into(), key.into()))
        .await
        .as_f64()
        .unwrap()
}

async fn exercise(ledger: &JsLedger) {
    let model = JsModel::from_json(BANK.into()).unwrap();
    let id = ok(ledger.put_model(&model)).await.as_string().unwrap();
    let stream = stream_of(ok(ledger.create_stream("bank".into(), id)).await);
    ok(stream.fire_batch(
        js(r#"[{"action":"open","args":{"user":"alice"}},
               {"action":"open","args":{"user":"bob"}},
               {"action":"open","args":{"user":"carol"}}]"#),
        Some(1.0),
    ))
    .await;
    let e = ok(stream.fire(
        "transfer".into(),
        obj(r#"{"args":{"to":"bob","from":"alice"},"multiple":30}"#),
    ))
    .await;
    assert_eq!(
        JSON::stringify(&get(&e, "args")).unwrap(),
        r#"[["from","alice"],["to","bob"]]"#
    );
    assert_eq!(
        JSON::stringify(&get(&e, "keys")).unwrap(),
        r#"[["balance","alice",70],["balance","bob",130]]"#
    );
    assert_eq!(count(&stream, "alice").await, 70.0);
    assert_eq!(count(&stream, "nobody").await, 0.0);
    // The marking shows the keyed places' totals.
    assert_eq!(
        JSON::stringify(&stream.marking().unwrap()).unwrap(),
        r#"{"balance":300,"registered":3}"#
    );

    let page = ok(stream.keys("balance".into(), obj(r#"{"limit":2}"#))).await;
    assert_eq!(
        JSON::stringify(&page).unwrap(),
        r#"{"keys":[{"key":"alice","count":70},{"key":"bob","count":130}],"count":3,"total":300}"#
    );
    let page = ok(stream.keys("balance".into(), obj(r#"{"after":"bob"}"#))).await;
    assert_eq!(Array::from(&get(&page, "keys")).length(), 1);
    // A search: the keys that start with a prefix.
    let found = ok(stream.keys("balance".into(), obj(r#"{"prefix":"b"}"#))).await;
    assert_eq!(
        JSON::stringify(&found).unwrap(),
        r#"{"keys":[{"key":"bob","count":130}],"count":3,"total":300}"#
    );
    let found = ok(stream.keys("balance".into(), obj(r#"{"prefix":"zed"}"#))).await;
    assert_eq!(Array::from(&get(&found, "keys")).length(), 0);
    // The highest counts first (ties by key).
    let top = ok(stream.top("balance".into(), obj(r#"{"limit":2}"#))).await;
    assert_eq!(
        JSON::stringify(&top).unwrap(),
        r#"{"keys":[{"key":"bob","count":130},{"key":"carol","count":100}],"count":3,"total":300}"#
    );
    let top = ok(stream.top("registered".into(), None)).await;
    assert_eq!(
        JSON::stringify(&get(&top, "keys")).unwrap(),
        r#"[{"key":"alice","count":1},{"key":"bob","count":1},{"key":"carol","count":1}]"#
    );
    for bad in [r#"{"limit":0}"#, r#"{"limit":1001}"#, r#"{"limit":2.5}"#] {
        rejects(stream.top("balance".into(), obj(bad)), "BAD_ARGUMENT").await;
    }
    rejects(
        stream.keys("balance".into(), obj(r#"{"prefix":5}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(stream.top("nowhere".into(), None), "UNKNOWN_PLACE").await;

    // Refusals: typed, explained, nothing stored.
    let err = rejects(
        stream.fire(
            "transfer".into(),
            obj(r#"{"args":{"from":"alice","to":"bob"},"multiple":71}"#),
        ),
        "NOT_ENABLED",
    )
    .await;
    let details = get(&err, "details");
    assert_eq!(
        get(&details, "place").as_string().as_deref(),
        Some("balance[alice]")
    );
    assert_eq!(
        (
            get(&details, "has").as_f64(),
            get(&details, "needs").as_f64()
        ),
        (Some(70.0), Some(71.0))
    );
    let err = rejects(
        stream.fire("transfer".into(), obj(r#"{"args":{"from":"alice"}}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    assert_eq!(
        get(&get(&err, "details"), "argument")
            .as_string()
            .as_deref(),
        Some("to")
    );
    rejects(
        stream.fire(
            "transfer".into(),
            obj(r#"{"args":{"from":"alice","to":"alice"}}"#),
        ),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(
        stream.fire(
            "transfer".into(),
            obj(r#"{"args":{"from":"alice","to":5}}"#),
        ),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(
        stream.fire("transfer".into(), obj(r#"{"args":["alice","bob"]}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(stream.fire("transfer".into(), None), "BAD_ARGUMENT").await;
    rejects(
        stream.keys("balance".into(), obj(r#"{"limit":0}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(stream.count("nowhere".into(), "x".into()), "UNKNOWN_PLACE").await;
    assert_eq!(get(&stream.head().unwrap(), "seq").as_f64(), Some(4.0));

    let verified = ok(ledger.verify(Some("bank".into()))).await;
    assert_eq!(
        get(&Array::from(&verified).get(0), "events").as_f64(),
        Some(4.0)
    );
    prove_keys(&stream).await;
}

/// `prove(place, { key, seq })` and `verifyKeyProof`: a key present, a key
/// absent, an earlier seq, and lies that do not verify.
async fn prove_keys(stream: &JsStream) {
    let at = ok(stream.prove("balance".into(), obj(r#"{"key":"alice"}"#))).await;
    let (event, proof) = (get(&at, "event"), get(&at, "proof"));
    let root = get(&event, "root").as_string().unwrap();
    assert_eq!(get(&event, "seq").as_f64(), Some(4.0));
    assert_eq!(get(&proof, "count").as_f64(), Some(70.0));
    assert!(verify_key_proof(proof.clone(), root.clone()).unwrap());
    let lie = js(&JSON::stringify(&proof).unwrap().as_string().unwrap());
    Reflect::set(&lie, &"count".into(), &JsValue::from_f64(71.0)).unwrap();
    assert!(!verify_key_proof(lie.clone(), root.clone()).unwrap());
    Reflect::set(&lie, &"count".into(), &JsValue::from_f64(70.0)).unwrap();
    Reflect::set(&lie, &"key".into(), &"bob".into()).unwrap();
    assert!(!verify_key_proof(lie, root.clone()).unwrap());
    // Absent: count 0, with the key its path ends at.
    let absent = get(
        &ok(stream.prove("balance".into(), obj(r#"{"key":"zoe"}"#))).await,
        "proof",
    );
    assert_eq!(get(&absent, "count").as_f64(), Some(0.0));
    assert!(Array::is_array(&get(&absent, "nearest")));
    assert!(verify_key_proof(absent, root.clone()).unwrap());
    // After seq 3 (before the transfer) alice held 100, under that root.
    let at3 = ok(stream.prove("balance".into(), obj(r#"{"key":"alice","seq":3}"#))).await;
    let root3 = get(&get(&at3, "event"), "root").as_string().unwrap();
    let proof3 = get(&at3, "proof");
    assert_eq!(get(&proof3, "count").as_f64(), Some(100.0));
    assert!(verify_key_proof(proof3.clone(), root3).unwrap());
    assert!(!verify_key_proof(proof3, root.clone()).unwrap());
    // A keyed place needs a key; an unkeyed proof is not a key proof.
    rejects(stream.prove("balance".into(), None), "INVALID_INPUT").await;
    rejects(
        stream.prove("balance".into(), obj(r#"{"key":5}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(
        stream.prove("balance".into(), obj(r#"{"key":"alice","seq":9}"#)),
        "INVALID_INPUT",
    )
    .await;
    let err = verify_key_proof(js(r#"{"place":"balance"}"#), root.clone()).unwrap_err();
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("BAD_ARGUMENT")
    );
    assert!(verify_place_proof(
        js(r#"{"place":"balance","count":1,"index":0,"path":[]}"#),
        root
    )
    .is_ok());
}

#[wasm_bindgen_test]
async fn keyed_places_in_a_memory_ledger() {
    exercise(&JsLedger::in_memory().await.unwrap()).await;
}

#[wasm_bindgen_test]
async fn keyed_places_in_indexeddb_survive_a_reopen() {
    let name = format!("keyed-{}", (js_sys::Math::random() * 1e12) as u64);
    let ledger = ledger_of(ok(JsLedger::open(name.clone())).await);
    exercise(&ledger).await;
    ledger.close();
    // A new connection has no tip cached: it rebuilds the tip from the key
    // records and goes on.
    let ledger = ledger_of(ok(JsLedger::open(name.clone())).await);
    let stream = stream_of(ok(ledger.stream("bank".into())).await);
    assert_eq!(count(&stream, "bob").await, 130.0);
    ok(stream.fire(
        "transfer".into(),
        obj(r#"{"args":{"from":"bob","to":"carol"},"multiple":130}"#),
    ))
    .await;
    assert_eq!(count(&stream, "bob").await, 0.0);
    assert_eq!(count(&stream, "carol").await, 230.0);
    let page = ok(stream.keys("balance".into(), None)).await;
    // bob holds nothing now: his key is gone.
    assert_eq!(get(&page, "count").as_f64(), Some(2.0));
    ledger.close();
    // Another new connection reads count, keys and top from the key
    // records, in step with that append.
    let ledger = ledger_of(ok(JsLedger::open(name)).await);
    let stream = stream_of(ok(ledger.stream("bank".into())).await);
    assert_eq!(count(&stream, "carol").await, 230.0);
    let top = ok(stream.top("balance".into(), None)).await;
    assert_eq!(
        JSON::stringify(&top).unwrap(),
        r#"{"keys":[{"key":"carol","count":230},{"key":"alice","count":70}],"count":2,"total":300}"#
    );
    let found = ok(stream.keys("balance".into(), obj(r#"{"prefix":"a"}"#))).await;
    assert_eq!(Array::from(&get(&found, "keys")).length(), 1);
    ledger.close();
}
