//! Helpers shared by the browser tests (web_*.rs, sync_server_web.rs) and
//! the benchmarks that drive the JS-facing API.
#![allow(dead_code)]

use js_sys::{Array, Error, Function, Object, Promise, Reflect, JSON};
use petrichain_web::{JsLedger, JsModel, JsStream, JsSyncHandle};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub const SHOP: &str = r#"{"places":[{"id":"stock","initial":5},{"id":"sold"}],
  "transitions":[{"id":"sell","roles":["clerk"]},{"id":"restock","roles":["manager"]}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"},
          {"source":"restock","target":"stock"}]}"#;

pub const COIN: &str = r#"{"places":[{"id":"coin","initial":1},{"id":"spent"}],
  "transitions":[{"id":"spend"}],
  "arcs":[{"source":"coin","target":"spend"},{"source":"spend","target":"spent"}]}"#;

pub fn js(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}
/// `text` parsed as a plain object, for the API's `options` arguments.
pub fn obj(text: &str) -> Option<Object> {
    Some(js(text).unchecked_into())
}
pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}
pub fn num(v: &JsValue, key: &str) -> f64 {
    get(v, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {}", json(v)))
}
pub fn json(v: &JsValue) -> String {
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}
pub async fn ok(p: Promise) -> JsValue {
    match JsFuture::from(p).await {
        Ok(v) => v,
        Err(e) => panic!("rejected: {} {}", json(&get(&e, "details")), describe(&e)),
    }
}
pub fn describe(e: &JsValue) -> String {
    e.dyn_ref::<Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{e:?}"))
}
/// Awaits a promise that must reject with a real `Error` carrying `code`.
pub async fn rejects(p: Promise, code: &str) -> JsValue {
    let err = JsFuture::from(p).await.expect_err("expected a rejection");
    assert!(err.is_instance_of::<Error>(), "not an Error: {err:?}");
    assert_eq!(
        get(&err, "name").as_string().as_deref(),
        Some("PetrichainError")
    );
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some(code),
        "{}: {}",
        describe(&err),
        json(&get(&err, "details"))
    );
    err
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}

pub async fn open(name: &str) -> JsLedger {
    wasm_bindgen::convert::TryFromJsValue::try_from_js_value(
        ok(JsLedger::open(name.to_string())).await,
    )
    .unwrap()
}

/// Exported classes come back from promises as JS objects wrapping the Rust value.
pub fn stream_of(v: JsValue) -> JsStream {
    wasm_bindgen::convert::TryFromJsValue::try_from_js_value(v).unwrap()
}
pub fn ledger_of(v: JsValue) -> JsLedger {
    wasm_bindgen::convert::TryFromJsValue::try_from_js_value(v).unwrap()
}

pub async fn new_stream(ledger: &JsLedger, net: &str, id: &str) -> JsStream {
    let model = JsModel::from_json(net.into()).unwrap();
    let model_id = ok(ledger.put_model(&model)).await.as_string().unwrap();
    stream_of(ok(ledger.create_stream(id.into(), model_id)).await)
}

/// Grants `role` to `key` on `stream` (a role another device claims must be
/// granted: docs/chain-format.md, "Grants, revocations and profiles").
pub async fn grant(stream: &JsStream, key: &str, role: &str) -> JsValue {
    ok(stream.grant(key.into(), role.into())).await
}

pub async fn fire(stream: &JsStream, action: &str, options: &str) -> JsValue {
    ok(stream.fire(action.into(), Some(js(options).unchecked_into()))).await
}

/// Everything a ledger holds about a stream, as text: its chain export (or
/// the error code when it has no such stream) and its conflicts.
pub async fn snapshot(ledger: &JsLedger, stream: &str) -> String {
    let chain = match JsFuture::from(ledger.export_jsonl(stream.into())).await {
        Ok(text) => text.as_string().unwrap(),
        Err(e) => get(&e, "code").as_string().unwrap(),
    };
    let conflicts = json(&ok(ledger.conflicts(stream.into())).await);
    format!("{chain}\n{conflicts}")
}

/// The events of a stream as JSON text.
/// A stream's events as JSON, payloads as their stored text (the chain).
pub async fn chain(ledger: &JsLedger, stream: &str) -> String {
    let s = stream_of(ok(ledger.stream(stream.into())).await);
    let raw: js_sys::Object = JSON::parse(r#"{"payloadText":true}"#)
        .unwrap()
        .unchecked_into();
    json(&ok(s.events(Some(raw))).await)
}

/// A stream's events as `seq hash` lines: the same chain on two ledgers
/// even where one keeps a signature run and the other got it signed.
pub async fn chain_hashes(ledger: &JsLedger, stream: &str) -> Vec<String> {
    let s = stream_of(ok(ledger.stream(stream.into())).await);
    Array::from(&ok(s.events(None)).await)
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                num(&e, "seq"),
                get(&e, "hash").as_string().unwrap()
            )
        })
        .collect()
}

pub fn handle(ledger: &JsLedger, options: JsValue) -> JsSyncHandle {
    ledger.sync(options).unwrap()
}

/// `{url, streams}` options (no `streams` when none are given: the default scope).
pub fn url_options(url: &str, streams: &[&str]) -> JsValue {
    let o = js_sys::Object::new();
    Reflect::set(&o, &"url".into(), &url.into()).unwrap();
    if !streams.is_empty() {
        let list: Array = streams.iter().map(|s| JsValue::from_str(s)).collect();
        Reflect::set(&o, &"streams".into(), &list).unwrap();
    }
    o.into()
}

/// `{transport, streams}` options.
pub fn transport_options(transport: &JsValue, streams: &[&str]) -> JsValue {
    let o = js_sys::Object::new();
    Reflect::set(&o, &"transport".into(), transport).unwrap();
    if !streams.is_empty() {
        let list: Array = streams.iter().map(|s| JsValue::from_str(s)).collect();
        Reflect::set(&o, &"streams".into(), &list).unwrap();
    }
    o.into()
}

/// A JS object implementing the transport over an in-memory backend written
/// in plain JS (conditional append, idempotent by hash, 409 as
/// `{conflict: head}`), as an app would write around its own API. `fault`
/// (a property the test may set later) makes pull misbehave: "garbage",
/// "throw", "tamper".
pub fn js_backend() -> JsValue {
    let make = Function::new_no_args(
        r#"
        const zero = { seq: 0, hash: "0".repeat(64) };
        const streams = new Map(), models = new Map();
        const head = (s) => s && s.events.length ? { seq: s.events.at(-1).seq, hash: s.events.at(-1).hash } : zero;
        const t = {
          name: "js-backend", fault: null, pulls: 0, pushes: 0, data: streams, models,
          async pull(stream, after, limit) {
            t.pulls++;
            if (t.fault === "throw") throw new Error("socket closed");
            if (t.fault === "garbage") return { hello: "world" };
            const s = streams.get(stream);
            if (!s) return null;
            let events = s.events.slice(after, after + limit).map((e) => ({ ...e }));
            if (t.fault === "tamper") for (const e of events) if (e.seq === 2) e.actor = "mallory";
            return { stream, model: s.model, head: head(s), events, more: after + events.length < s.events.length };
          },
          async push(stream, req) {
            t.pushes++;
            let s = streams.get(stream);
            if (!s) { s = { model: req.model, events: [] }; streams.set(stream, s); }
            let duplicates = 0, rest = req.events;
            while (rest.length && s.events[rest[0].seq - 1] && s.events[rest[0].seq - 1].hash === rest[0].hash) { duplicates++; rest = rest.slice(1); }
            const h = head(s);
            if (rest.length === 0) return { head: h, stored: 0, duplicates };
            if ((duplicates === 0 && (req.expected.seq !== h.seq || req.expected.hash !== h.hash)) || rest[0].prev !== h.hash) return { conflict: h };
            s.events.push(...rest);
            return { head: head(s), stored: rest.length, duplicates };
          },
          getModel(id) { return models.get(id) ?? null; },
          putModel(doc) { models.set(doc.id, doc); },
          streams() { return { streams: [...streams].map(([id, s]) => ({ id, model: s.model, head: head(s) })) }; },
        };
        return t;
        "#,
    );
    make.call0(&JsValue::NULL).unwrap()
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let set_timeout: Function = Reflect::get(&js_sys::global(), &"setTimeout".into())
            .unwrap()
            .dyn_into()
            .unwrap();
        set_timeout
            .call2(&JsValue::NULL, &resolve, &JsValue::from(ms))
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}
