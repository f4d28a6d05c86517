//! The JS-facing `Ledger` / `Stream` API, in headless Chromium
//! (scripts/ci/wasm-browser.sh): promises, plain-object events, real `Error`s.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Error, Function, Object, Reflect, JSON};
use petrichain_web::{JsLedger, JsModel, JsStream};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod websync;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

const SHOP: &str = r#"{"places":[{"id":"stock","initial":3},{"id":"sold"}],
  "transitions":[{"id":"sell","roles":["clerk"]}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"}]}"#;

async fn shop_stream(ledger: &JsLedger, id: &str) -> JsStream {
    let model = JsModel::from_json(SHOP.into()).unwrap();
    let model_id = ok(ledger.put_model(&model)).await.as_string().unwrap();
    assert_eq!(model_id, model.id());
    stream_of(ok(ledger.create_stream(id.into(), model_id)).await)
}

async fn exercise(ledger: JsLedger) {
    let stream = shop_stream(&ledger, "till").await;
    assert_eq!(
        JSON::stringify(&stream.marking().unwrap()).unwrap(),
        r#"{"sold":0,"stock":3}"#
    );
    assert_eq!(get(&stream.head().unwrap(), "seq").as_f64(), Some(0.0));
    assert_eq!(
        stream
            .enabled(Some(js(r#"["clerk"]"#).unchecked_into()))
            .unwrap(),
        vec!["sell".to_string()]
    );
    assert!(stream.enabled(None).unwrap().is_empty());

    let opts = js(
        r#"{"actor":"ann","roles":["clerk"],"payloadText":"{\"n\": 12345678901234567890}","ts":1700000000000}"#,
    );
    let e1 = ok(stream.fire("sell".into(), Some(opts.unchecked_into()))).await;
    assert_eq!(get(&e1, "seq").as_f64(), Some(1.0));
    // Out comes the value (JSON.parse: the big number loses digits) ...
    assert_eq!(
        get(&get(&e1, "payload"), "n").as_f64(),
        Some(12345678901234567890.0)
    );
    // ... and, asked for, the exact text that was stored and hashed.
    let raw = ok(stream.events(obj(r#"{"payloadText":true}"#))).await;
    assert_eq!(
        get(&Array::from(&raw).get(0), "payload")
            .as_string()
            .unwrap(),
        r#"{"n": 12345678901234567890}"#
    );
    assert_eq!(get(&e1, "ts").as_f64(), Some(1_700_000_000_000.0));
    assert_eq!(get(&e1, "hash").as_string().unwrap().len(), 64);
    // Chain format 2: a nonce, the changed counts, the marking root, and
    // the signature of this ledger's device.
    assert_eq!(get(&e1, "v").as_f64(), Some(2.0));
    assert_eq!(get(&e1, "nonce").as_string().unwrap().len(), 32);
    assert_eq!(
        JSON::stringify(&get(&e1, "delta")).unwrap(),
        r#"[["sold",1],["stock",2]]"#
    );
    assert_eq!(get(&e1, "root").as_string().unwrap().len(), 64);
    assert_eq!(get(&e1, "signer").as_string().unwrap(), ledger.device_key());
    assert_eq!(get(&e1, "sig").as_string().unwrap().len(), 128);
    assert!(Reflect::get(&e1, &"state".into()).unwrap().is_undefined());
    // A value is stored as JSON.stringify gives it and comes back equal; ts defaults to now.
    let e2 = ok(stream.fire(
        "sell".into(),
        obj(r#"{"roles":["*"],"payload":{"a":[1,"é"]}}"#),
    ))
    .await;
    assert_eq!(
        JSON::stringify(&get(&e2, "payload")).unwrap(),
        r#"{"a":[1,"é"]}"#
    );
    let raw = ok(stream.events(obj(r#"{"after":1,"payloadText":true}"#))).await;
    assert_eq!(
        get(&Array::from(&raw).get(0), "payload")
            .as_string()
            .unwrap(),
        r#"{"a":[1,"é"]}"#
    );
    let read = ok(stream.events(obj(r#"{"after":1}"#))).await;
    assert_eq!(
        JSON::stringify(&get(&Array::from(&read).get(0), "payload")).unwrap(),
        r#"{"a":[1,"é"]}"#
    );
    assert!(get(&e2, "ts").as_f64().unwrap() > 1_700_000_000_000.0);
    assert_eq!(get(&e2, "prev"), get(&e1, "hash"));
    assert_eq!(get(&stream.head().unwrap(), "hash"), get(&e2, "hash"));
    assert_eq!(
        JSON::stringify(&stream.marking().unwrap()).unwrap(),
        r#"{"sold":2,"stock":1}"#
    );

    let err = rejects(
        stream.fire("sell".into(), obj(r#"{"roles":["clerk"],"multiple":2}"#)),
        "NOT_ENABLED",
    )
    .await;
    let details = get(&err, "details");
    assert_eq!(get(&details, "place").as_string().as_deref(), Some("stock"));
    assert_eq!(
        (
            get(&details, "has").as_f64(),
            get(&details, "needs").as_f64()
        ),
        (Some(1.0), Some(2.0))
    );
    rejects(stream.fire("sell".into(), None), "ROLE_DENIED").await;
    rejects(
        stream.fire(
            "sell".into(),
            obj(r#"{"roles":["*"],"payloadText":"{bad"}"#),
        ),
        "INVALID_PAYLOAD",
    )
    .await;
    rejects(
        stream.fire(
            "sell".into(),
            obj(r#"{"roles":["*"],"payload":1,"payloadText":"1"}"#),
        ),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(
        stream.fire("sell".into(), obj(r#"{"multiple":-1}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(
        stream.fire("sell".into(), obj(r#"{"ts":"yesterday"}"#)),
        "BAD_ARGUMENT",
    )
    .await;
    rejects(
        stream.fire_batch(
            js(r#"[{"action":"sell","roles":["*"]},{"action":"sell","roles":["*"]}]"#),
            None,
        ),
        "NOT_ENABLED",
    )
    .await;
    assert_eq!(get(&stream.head().unwrap(), "seq").as_f64(), Some(2.0));

    let events = ok(stream.events(obj(r#"{"after":1}"#))).await;
    assert_eq!(Array::from(&events).length(), 1);
    assert_eq!(Array::from(&ok(stream.events(None)).await).length(), 2);
    rejects(stream.events(obj(r#"{"limit":-3}"#)), "BAD_ARGUMENT").await;

    let verified = ok(ledger.verify(None)).await;
    assert_eq!(
        get(&Array::from(&verified).get(0), "events").as_f64(),
        Some(2.0)
    );
    let streams = ok(ledger.streams()).await;
    assert_eq!(
        get(&Array::from(&streams).get(0), "id")
            .as_string()
            .as_deref(),
        Some("till")
    );
    rejects(ledger.stream("nope".into()), "UNKNOWN_STREAM").await;
    rejects(
        ledger.create_stream("till".into(), "0".repeat(64)),
        "UNKNOWN_MODEL",
    )
    .await;

    // Export, then import into a fresh memory ledger; a tampered copy is refused.
    let text = ok(ledger.export_jsonl("till".into()))
        .await
        .as_string()
        .unwrap();
    let copy = JsLedger::in_memory().await.unwrap();
    let bad = text.replace(r#"\"a\":[1,"#, r#"\"a\":[2,"#);
    let err = rejects(copy.import_jsonl(bad), "HASH_MISMATCH").await;
    assert_eq!(get(&get(&err, "details"), "seq").as_f64(), Some(2.0));
    let report = ok(copy.import_jsonl(text)).await;
    assert_eq!(get(&report, "added").as_f64(), Some(2.0));

    // Subscriptions, and unsubscribing.
    let heard = Array::new();
    let push = Function::new_with_args("change", "this.push(change.seq)").bind0(&heard);
    let unsubscribe: Function = ledger.subscribe(Some("till".into()), push).unchecked_into();
    let again = stream_of(ok(ledger.stream("till".into())).await);
    ok(again.fire_batch(js(r#"[{"action":"sell","roles":["clerk"]}]"#), Some(5.0))).await;
    unsubscribe.call0(&JsValue::NULL).unwrap();
    assert_eq!(JSON::stringify(&heard).unwrap(), "[3]");
    // The first handle follows by itself (web_live.rs); refresh() reads now.
    ok(stream.refresh()).await;
    assert_eq!(get(&stream.head().unwrap(), "seq").as_f64(), Some(3.0));

    ledger.close();
    rejects(ledger.streams(), "CLOSED").await;
}

#[wasm_bindgen_test]
async fn the_memory_ledger_api() {
    exercise(JsLedger::in_memory().await.unwrap()).await;
}

#[wasm_bindgen_test]
async fn the_indexeddb_ledger_api() {
    let name = format!("api-{}", (js_sys::Math::random() * 1e12) as u64);
    let ledger: JsLedger = wasm_bindgen::convert::TryFromJsValue::try_from_js_value(
        ok(JsLedger::open(name.clone())).await,
    )
    .unwrap();
    exercise(ledger).await;
    // Reopened, the data is still there.
    let ledger: JsLedger =
        wasm_bindgen::convert::TryFromJsValue::try_from_js_value(ok(JsLedger::open(name)).await)
            .unwrap();
    assert_eq!(
        Array::from(&ok(ledger.verify(Some("till".into()))).await).length(),
        1
    );
    ledger.close();
}

#[wasm_bindgen_test]
async fn opening_with_an_empty_name_rejects() {
    rejects(JsLedger::open(String::new()), "INVALID_INPUT").await;
}

/// Puts `record` in the events store, replacing the one at its key (a
/// test's tampering, under the ledger).
async fn put_record(ledger: &str, record: &JsValue) {
    let db = petrichain_web::indexeddb::open_raw(ledger).await.unwrap();
    let tx = db
        .transaction(&["events"], rexie::TransactionMode::ReadWrite)
        .unwrap();
    tx.store("events").unwrap().put(record, None).await.unwrap();
    tx.done().await.unwrap();
    db.close();
}

/// `stream.events()` from IndexedDB reads the stored lines in JS
/// (web/src/hot.js): the same values as through the core, ranges and
/// limits, and corrupt records named by their key.
#[wasm_bindgen_test]
async fn indexeddb_loads_check_each_record_against_its_key() {
    let name = format!("loads-{}", (js_sys::Math::random() * 1e12) as u64);
    let ledger: JsLedger = wasm_bindgen::convert::TryFromJsValue::try_from_js_value(
        ok(JsLedger::open(name.clone())).await,
    )
    .unwrap();
    let stream = shop_stream(&ledger, "till").await;
    let batch = js(r#"[{"action":"sell","roles":["clerk"],"payload":{"n":1}},
            {"action":"sell","roles":["clerk"],"payloadText":"{\"big\": 12345678901234567890}"},
            {"action":"sell","roles":["clerk"]}]"#);
    let fired = ok(stream.fire_batch(batch, Some(1.0))).await;
    let all = ok(stream.events(None)).await;
    assert_eq!(
        JSON::stringify(&all).unwrap(),
        JSON::stringify(&fired).unwrap(),
        "a load gives what the append gave"
    );
    assert_eq!(
        JSON::stringify(&get(&Array::from(&all).get(0), "payload")).unwrap(),
        r#"{"n":1}"#
    );
    let second = ok(stream.events(obj(r#"{"after":1,"limit":1,"payloadText":true}"#))).await;
    let second = Array::from(&second);
    assert_eq!(second.length(), 1);
    assert_eq!(get(&second.get(0), "seq").as_f64(), Some(2.0));
    assert_eq!(
        get(&second.get(0), "payload").as_string().as_deref(),
        Some(r#"{"big": 12345678901234567890}"#)
    );
    assert_eq!(
        Array::from(&ok(stream.events(obj(r#"{"limit":0}"#))).await).length(),
        0
    );
    assert_eq!(
        Array::from(&ok(stream.events(obj(r#"{"after":3}"#))).await).length(),
        0
    );

    // The batch is one record (a block, keyed by its first event, seq 1):
    // the line of event 1 stored in place of event 2's says seq 1.
    let db_name = name.clone();
    let raw = ok(stream.events(obj(r#"{"payloadText":true}"#))).await;
    let line = |i: u32| JSON::stringify(&Array::from(&raw).get(i)).unwrap();
    let hash_of = |i: u32| get(&Array::from(&raw).get(i), "hash").as_string().unwrap();
    // The block with event `seq`'s line and hash replaced.
    let record = |seq: f64, hash: &JsValue, json: &JsValue| {
        let at = seq as u32 - 1;
        let (mut lines, mut hashes) = (Vec::new(), String::new());
        for i in 0..3 {
            if i == at {
                lines.push(json.as_string().unwrap());
                hashes.push_str(&hash.as_string().unwrap());
            } else {
                lines.push(String::from(line(i)));
                hashes.push_str(&hash_of(i));
            }
        }
        let r = Object::new();
        Reflect::set(&r, &"stream".into(), &"till".into()).unwrap();
        Reflect::set(&r, &"seq".into(), &1.0.into()).unwrap();
        Reflect::set(&r, &"hash".into(), &hashes.into()).unwrap();
        Reflect::set(&r, &"json".into(), &lines.join("\n").into()).unwrap();
        JsValue::from(r)
    };
    let hash1 = get(&Array::from(&raw).get(0), "hash");
    put_record(&db_name, &record(2.0, &hash1, &line(0).into())).await;
    let err = rejects(stream.events(None), "CORRUPT_RECORD").await;
    let message = String::from(err.unchecked_ref::<Error>().message());
    assert!(message.contains("[till, 1]"), "{message}");
    // A payload that is not JSON text.
    let hash2 = get(&Array::from(&raw).get(1), "hash");
    let bad = line(1).replace(r#"{\"big\": 12345678901234567890}"#, "{oops");
    put_record(&db_name, &record(2.0, &hash2, &bad.into())).await;
    rejects(stream.events(None), "CORRUPT_RECORD").await;
    // With the exact text asked for, the payload is not parsed, but the
    // full check still finds it.
    ok(stream.events(obj(r#"{"payloadText":true}"#))).await;
    let err = JsFuture::from(ledger.verify(Some("till".into())))
        .await
        .expect_err("verify finds the bad payload");
    let code = get(&err, "code").as_string().unwrap_or_default();
    assert!(
        ["INVALID_EVENT", "HASH_MISMATCH"].contains(&code.as_str()),
        "{err:?}"
    );
    // Not even JSON.
    put_record(&db_name, &record(2.0, &hash2, &"not json".into())).await;
    rejects(
        stream.events(obj(r#"{"payloadText":true}"#)),
        "CORRUPT_RECORD",
    )
    .await;

    ledger.close();
    rejects(stream.events(None), "CLOSED").await;
}
