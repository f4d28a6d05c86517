//! The sync client in headless Chromium against the REAL reference server
//! (petrichain-server, SQLite) and a deliberately broken backend. Run by
//! scripts/ci/sync.sh, which starts both and passes their URLs at compile
//! time; without them these tests fail (they never skip).
#![cfg(target_arch = "wasm32")]
// The URLs are read at compile time but checked at run time (a clear failure
// message when run without scripts/ci/sync.sh), so lint builds compile.
#![allow(clippy::option_env_unwrap)]

mod websync;

use js_sys::{Array, Function};
use petrichain::sync::protocol::{AppendRequest, Head, ModelDoc};
use petrichain::sync::{PushOutcome, Transport};
use petrichain_web::http::HttpTransport;
use petrichain_web::{JsLedger, JsModel};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

fn server() -> &'static str {
    option_env!("PETRICHAIN_TEST_SERVER").expect(
        "PETRICHAIN_TEST_SERVER is not set: run these tests through scripts/ci/sync.sh, \
         which starts the reference server",
    )
}

fn bad_remote() -> &'static str {
    option_env!("PETRICHAIN_TEST_BAD_REMOTE")
        .expect("PETRICHAIN_TEST_BAD_REMOTE is not set: run these tests through scripts/ci/sync.sh")
}

#[wasm_bindgen_test]
async fn two_indexeddb_ledgers_record_offline_then_converge_through_the_server() {
    let id = unique("till");
    let (a, b) = (open(&unique("srv-a")).await, open(&unique("srv-b")).await);
    let sa = new_stream(&a, SHOP, &id).await;
    let sb = new_stream(&b, SHOP, &id).await;
    // b's roles, granted by the owner (docs/chain-format.md).
    grant(&sa, &b.device_key(), "clerk").await;
    grant(&sa, &b.device_key(), "manager").await;
    for ts in 1..=3 {
        fire(
            &sa,
            "sell",
            &format!(r#"{{"actor":"ann","roles":["clerk"],"ts":{ts}}}"#),
        )
        .await;
    }
    fire(
        &sb,
        "restock",
        r#"{"actor":"bob","roles":["manager"],"ts":10}"#,
    )
    .await;
    fire(
        &sb,
        "sell",
        r#"{"actor":"bob","roles":["clerk"],"payloadText":"{\"n\":12345678901234567890}","ts":11}"#,
    )
    .await;
    let ha = handle(&a, url_options(server(), &[&id]));
    let hb = handle(&b, url_options(server(), &[&id]));
    let r = ok(ha.now()).await;
    assert_eq!(num(&get(&get(&r, "streams"), "0"), "pushed"), 5.0);
    let r = ok(hb.now()).await;
    let sr = get(&get(&r, "streams"), "0");
    assert_eq!(
        (
            num(&sr, "pulled"),
            num(&sr, "rebased"),
            num(&sr, "pushed"),
            num(&sr, "conflicts")
        ),
        (5.0, 2.0, 2.0, 0.0)
    );
    ok(ha.now()).await;
    let ca = chain(&a, &id).await;
    // The same events (b's two rebased ones are a signature run there; the
    // server, and so a, holds them signed).
    assert_eq!(chain_hashes(&a, &id).await, chain_hashes(&b, &id).await);
    assert_eq!(Array::from(&js(&ca)).length(), 7);
    // The big-number payload went through the server byte for byte.
    assert!(ca.contains(r#"{\"n\":12345678901234567890}"#), "{ca}");
    assert_eq!(ok(ha.pending(None)).await.as_f64(), Some(0.0));
    assert_eq!(ok(hb.pending(None)).await.as_f64(), Some(0.0));
    // A third ledger that has neither the stream nor its model pulls both.
    let c = open(&unique("srv-c")).await;
    ok(handle(&c, url_options(server(), &[&id])).now()).await;
    assert_eq!(chain(&c, &id).await, ca);
    assert_eq!(Array::from(&ok(c.verify(None)).await).length(), 1);
    for l in [a, b, c] {
        l.close();
    }
}

#[wasm_bindgen_test]
async fn a_conflicting_offline_spend_ends_as_one_kept_event_and_one_conflict() {
    let id = unique("wallet");
    let (a, b) = (open(&unique("srv-ca")).await, open(&unique("srv-cb")).await);
    fire(
        &new_stream(&a, COIN, &id).await,
        "spend",
        r#"{"actor":"ann"}"#,
    )
    .await;
    fire(
        &new_stream(&b, COIN, &id).await,
        "spend",
        r#"{"actor":"bob"}"#,
    )
    .await;
    ok(handle(&a, url_options(server(), &[&id])).now()).await;
    let report = ok(handle(&b, url_options(server(), &[&id])).now()).await;
    let sr = get(&get(&report, "streams"), "0");
    assert_eq!((num(&sr, "conflicts"), num(&sr, "pushed")), (1.0, 0.0));
    ok(handle(&a, url_options(server(), &[&id])).now()).await;
    let ca = chain(&a, &id).await;
    assert_eq!(ca, chain(&b, &id).await);
    let events = Array::from(&js(&ca));
    assert_eq!(events.length(), 1);
    assert_eq!(get(&events.get(0), "actor").as_string().unwrap(), "ann");
    let conflicts = Array::from(&ok(b.conflicts(id.clone())).await);
    assert_eq!(conflicts.length(), 1);
    let c = conflicts.get(0);
    assert_eq!(get(&c, "code").as_string().unwrap(), "NOT_ENABLED");
    assert_eq!(get(&get(&c, "event"), "actor").as_string().unwrap(), "bob");
    assert_eq!(
        get(&c, "backend").as_string().unwrap(),
        server().trim_end_matches('/')
    );
    assert_eq!(Array::from(&ok(a.conflicts(id)).await).length(), 0);
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn a_remote_answering_500_garbage_or_html_is_refused_and_the_store_is_intact() {
    let id = unique("till");
    let busy = open(&unique("srv-bad")).await;
    fire(
        &new_stream(&busy, SHOP, &id).await,
        "sell",
        r#"{"roles":["clerk"]}"#,
    )
    .await;
    let fresh = JsLedger::in_memory().await.unwrap();
    for (path, code, status) in [
        ("status500", "REMOTE_ERROR", "offline"),
        ("garbage", "BAD_RESPONSE", "error"),
        ("html404", "REMOTE_ERROR", "error"),
    ] {
        let url = format!("{}/{path}", bad_remote());
        for ledger in [&busy, &fresh] {
            let before = snapshot(ledger, &id).await;
            let h = handle(ledger, url_options(&url, &[&id]));
            let err = rejects(h.now(), code).await;
            assert_eq!(h.status(), status, "{path}");
            if path == "status500" {
                let d = get(&err, "details");
                assert_eq!(num(&d, "status"), 500.0);
                assert_eq!(get(&d, "remoteCode").as_string().unwrap(), "INTERNAL");
            }
            assert_eq!(
                snapshot(ledger, &id).await,
                before,
                "{path} changed the store"
            );
        }
    }
    // The same ledger then syncs fine with the real server.
    ok(handle(&busy, url_options(server(), &[&id])).now()).await;
    busy.close();
}

/// A JS transport over the real server (an app's own fetch code), with
/// another client appending between our pull and our push: the server's 409
/// is returned as `{conflict}`, the client pulls, rebases and pushes again.
#[wasm_bindgen_test]
async fn a_js_transport_over_the_server_survives_a_409() {
    let id = unique("shared");
    let (a, b) = (
        open(&unique("jt409-a")).await,
        open(&unique("jt409-b")).await,
    );
    let sa = new_stream(&a, SHOP, &id).await;
    fire(
        &new_stream(&b, SHOP, &id).await,
        "sell",
        r#"{"actor":"bob","roles":["clerk"]}"#,
    )
    .await;
    let ha = handle(&a, url_options(server(), &[&id]));
    grant(&sa, &b.device_key(), "clerk").await;
    fire(&sa, "sell", r#"{"actor":"ann","roles":["clerk"]}"#).await;
    // Before the transport's first push, a syncs (its promise is awaited).
    let interject = Closure::<dyn FnMut() -> js_sys::Promise>::new(move || ha.now());
    let make = Function::new_with_args(
        "base, interject",
        r#"
        const call = async (method, path, body) => {
          const r = await fetch(base + "/v2" + path, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
          const json = await r.json();
          return { status: r.status, json };
        };
        let first = true;
        const t = {
          name: "app-fetch", pushes: 0, conflicts: 0,
          async pull(stream, after, limit) {
            const r = await call("GET", `/streams/${encodeURIComponent(stream)}/events?after=${after}&limit=${limit}`);
            if (r.status === 404) return null;
            if (r.status !== 200) throw new Error("pull " + r.status);
            return r.json;
          },
          async push(stream, req) {
            t.pushes++;
            if (first) { first = false; await interject(); }
            const r = await call("POST", `/streams/${encodeURIComponent(stream)}/events`, req);
            if (r.status === 409) { t.conflicts++; return { conflict: r.json.head }; }
            if (r.status !== 200) throw new Error("push " + r.status + " " + JSON.stringify(r.json));
            return r.json;
          },
          async getModel(id) { const r = await call("GET", `/models/${id}`); return r.status === 200 ? r.json : null; },
          async putModel(doc) { await call("PUT", `/models/${doc.id}`, doc); },
        };
        return t;
        "#,
    );
    let transport = make
        .call2(&JsValue::NULL, &server().into(), interject.as_ref())
        .unwrap();
    let hb = handle(&b, transport_options(&transport, &[&id]));
    assert_eq!(hb.backend(), "app-fetch");
    let report = ok(hb.now()).await;
    let sr = get(&get(&report, "streams"), "0");
    assert_eq!(num(&sr, "rounds"), 2.0, "{}", json(&report));
    assert_eq!(num(&transport, "conflicts"), 1.0);
    assert_eq!((num(&sr, "rebased"), num(&sr, "pushed")), (1.0, 1.0));
    // a (through the URL) and b (through the JS transport) agree.
    ok(handle(&a, url_options(server(), &[&id])).now()).await;
    assert_eq!(chain(&a, &id).await, chain(&b, &id).await);
    a.close();
    b.close();
}

/// The fetch transport itself against the server: unknown stream, model
/// upload, append, idempotent re-push, 409 with the head, 422 for a bad event.
#[wasm_bindgen_test]
async fn the_fetch_transport_speaks_the_protocol_with_the_server() {
    let t = HttpTransport::new(
        &format!("{}/", server()),
        vec![("X-Test".into(), "1".into())],
    );
    let id = unique("raw");
    assert_eq!(t.pull(&id, 0, 10).await.unwrap(), None);
    let ledger = JsLedger::in_memory().await.unwrap();
    let stream = new_stream(&ledger, SHOP, &id).await;
    // The forger below holds `clerk` (event 1): its forgeries are refused
    // for what they forge, not for a missing grant.
    let forger = petrichain::chain::SoftwareKey::from_seed(&[42; 32]);
    let forger_key = hex::encode(petrichain::chain::Device::public_key(&forger));
    grant(&stream, &forger_key, "clerk").await;
    fire(&stream, "sell", r#"{"roles":["clerk"],"ts":2}"#).await;
    let events: Vec<petrichain::chain::Event> =
        serde_json::from_str(&chain(&ledger, &id).await).unwrap();
    let model = JsModel::from_json(SHOP.into()).unwrap();
    let doc = ModelDoc {
        id: model.id(),
        json: model.to_json(),
    };
    assert!(t.get_model(&doc.id).await.is_ok());
    t.put_model(&doc).await.unwrap();
    assert_eq!(t.get_model(&doc.id).await.unwrap(), Some(doc.clone()));
    let req = AppendRequest {
        model: doc.id.clone(),
        expected: Head::zero(),
        events: events.clone(),
    };
    let PushOutcome::Appended(first) = t.push(&id, &req).await.unwrap() else {
        panic!("409")
    };
    assert_eq!((first.stored, first.duplicates, first.head.seq), (2, 0, 2));
    let PushOutcome::Appended(again) = t.push(&id, &req).await.unwrap() else {
        panic!("409")
    };
    assert_eq!((again.stored, again.duplicates), (0, 2));
    // A different event 2 on the old head: 409 with the server's head.
    let mut other = events[1].clone();
    other.ts = 99;
    other.hash = petrichain::chain::hash::event_hash(&other);
    let stale = AppendRequest {
        model: doc.id.clone(),
        expected: Head {
            seq: 1,
            hash: events[0].hash.clone(),
        },
        events: vec![other],
    };
    assert_eq!(
        t.push(&id, &stale).await.unwrap(),
        PushOutcome::Conflict(first.head.clone())
    );
    // A tampered event 3: refused as INVALID_EVENT.
    let mut bad = events[1].clone();
    bad.seq = 3;
    bad.prev = events[1].hash.clone();
    bad.actor = "mallory".into();
    let tampered = AppendRequest {
        model: doc.id.clone(),
        expected: first.head.clone(),
        events: vec![bad],
    };
    let err = t.push(&id, &tampered).await.unwrap_err();
    assert_eq!(err.code(), "PUSH_REJECTED", "{err}");
    // Forged events 3 with the right hash: another event's signature
    // replayed, no signature, another key's signature under this device's
    // name, a lying marking root (signed by the forger's own key). The
    // server verifies with the same core and names the code and the seq.
    let sign = |e: &mut petrichain::chain::Event| {
        e.hash = petrichain::chain::hash::event_hash(e);
        e.sig = hex::encode(forger.sign_now(&petrichain::chain::signed_message(&e.hash)));
    };
    let third = {
        // The honest third event, for its delta and root.
        let s = stream_of(ok(ledger.stream(id.clone())).await);
        fire(&s, "sell", r#"{"roles":["clerk"],"ts":3}"#).await;
        let all: Vec<petrichain::chain::Event> =
            serde_json::from_str(&chain(&ledger, &id).await).unwrap();
        all[2].clone()
    };
    let mut replayed = third.clone();
    replayed.sig = events[0].sig.clone();
    let mut missing = third.clone();
    missing.sig = String::new();
    let mut impostor = third.clone();
    impostor.sig = hex::encode(forger.sign_now(&petrichain::chain::signed_message(&third.hash)));
    let mut root = third.clone();
    root.signer = hex::encode(petrichain::chain::Device::public_key(&forger));
    root.root = "ab".repeat(32);
    sign(&mut root);
    for (label, forged, code) in [
        ("replayed signature", replayed, "BAD_SIGNATURE"),
        ("no signature", missing, "BAD_SIGNATURE"),
        ("another key's signature", impostor, "BAD_SIGNATURE"),
        ("lying root", root, "COMMITMENT_MISMATCH"),
    ] {
        let req = AppendRequest {
            model: doc.id.clone(),
            expected: first.head.clone(),
            events: vec![forged],
        };
        let err = t.push(&id, &req).await.unwrap_err();
        let petrichain::sync::SyncError::PushRejected {
            remote_code,
            seq,
            message,
            ..
        } = &err
        else {
            panic!("{label}: {err}")
        };
        // The server refuses the push as INVALID_EVENT and says why (the
        // core's error, whose text names the check) with the seq.
        let says = match code {
            "BAD_SIGNATURE" => "bad signature",
            "COMMITMENT_MISMATCH" => "marking commitment mismatch",
            other => other,
        };
        assert_eq!(
            (remote_code.as_str(), *seq),
            ("INVALID_EVENT", Some(3)),
            "{label}: {err}"
        );
        assert!(message.contains(says), "{label}: {message}");
    }
    let page = t.pull(&id, 0, 1).await.unwrap().unwrap();
    assert_eq!((page.events.len(), page.more, page.head.seq), (1, true, 2));
    assert_eq!(page.events[0], events[0]);
    let list = t.list_streams().await.unwrap().unwrap();
    assert!(list
        .streams
        .iter()
        .any(|s| s.id == id && s.head == first.head));
}

/// Interrupted syncs against the real server resume with nothing lost or
/// duplicated: a pull that dies on its second page stores nothing; a push the
/// server stored but whose answer never arrived is recognised afterwards.
#[wasm_bindgen_test]
async fn interrupted_syncs_resume_without_loss_or_duplicates() {
    let id = unique("resume");
    let (a, b) = (open(&unique("rs-a")).await, open(&unique("rs-b")).await);
    let sa = new_stream(&a, SHOP, &id).await;
    for ts in 1..=5 {
        fire(&sa, "sell", &format!(r#"{{"roles":["clerk"],"ts":{ts}}}"#)).await;
    }
    // A transport over fetch that can fail the 2nd pull, or lose a push's answer.
    let make = Function::new_with_args(
        "base",
        r#"
        const call = async (method, path, body) => {
          const r = await fetch(base + "/v2" + path, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
          return { status: r.status, json: await r.json() };
        };
        const t = {
          name: base, failSecondPull: false, loseAnswer: false, pulls: 0,
          async pull(stream, after, limit) {
            t.pulls++;
            if (t.failSecondPull && t.pulls === 2) throw new Error("connection reset");
            const r = await call("GET", `/streams/${encodeURIComponent(stream)}/events?after=${after}&limit=${limit}`);
            return r.status === 404 ? null : r.json;
          },
          async push(stream, req) {
            const r = await call("POST", `/streams/${encodeURIComponent(stream)}/events`, req);
            if (t.loseAnswer) throw new Error("server restarted before answering");
            return r.status === 409 ? { conflict: r.json.head } : r.json;
          },
          async getModel(id) { const r = await call("GET", `/models/${id}`); return r.status === 200 ? r.json : null; },
          async putModel(doc) { await call("PUT", `/models/${doc.id}`, doc); },
        };
        return t;
        "#,
    );
    let t = make.call1(&JsValue::NULL, &server().into()).unwrap();
    let set = |k: &str, v: bool| {
        js_sys::Reflect::set(&t, &k.into(), &JsValue::from_bool(v)).unwrap();
    };
    // The push is stored by the server, the answer is lost.
    set("loseAnswer", true);
    let ha = handle(&a, transport_options(&t, &[&id]));
    rejects(ha.now(), "NETWORK").await;
    assert_eq!(
        ok(ha.pending(None)).await.as_f64(),
        Some(5.0),
        "no answer, still pending"
    );
    set("loseAnswer", false);
    let r = ok(ha.now()).await;
    let sr = get(&get(&r, "streams"), "0");
    assert_eq!(
        (num(&sr, "pushed"), num(&sr, "pulled"), num(&sr, "pending")),
        (0.0, 0.0, 0.0)
    );
    // b pulls in pages of 2; the second page fails: nothing stored; then resumes.
    let options = transport_options(&t, &[&id]);
    js_sys::Reflect::set(&options, &"pageSize".into(), &2.into()).unwrap();
    set("failSecondPull", true);
    js_sys::Reflect::set(&t, &"pulls".into(), &0.into()).unwrap();
    let hb = handle(&b, options);
    rejects(hb.now(), "NETWORK").await;
    assert_eq!(snapshot(&b, &id).await, "UNKNOWN_STREAM\n[]");
    set("failSecondPull", false);
    let r = ok(hb.now()).await;
    assert_eq!(num(&get(&get(&r, "streams"), "0"), "pulled"), 5.0);
    let ca = chain(&a, &id).await;
    assert_eq!(chain(&b, &id).await, ca);
    // The server has exactly the five events (a fresh ledger sees the same).
    let c = JsLedger::in_memory().await.unwrap();
    ok(handle(&c, url_options(server(), &[&id])).now()).await;
    assert_eq!(chain(&c, &id).await, ca);
    a.close();
    b.close();
}

/// `live: true`: the server's server-sent events wake continuous sync as
/// soon as another client appends, long before the interval.
#[wasm_bindgen_test]
async fn live_updates_pull_another_clients_events_at_once() {
    let id = unique("live");
    let (a, b) = (
        JsLedger::in_memory().await.unwrap(),
        JsLedger::in_memory().await.unwrap(),
    );
    let sb = new_stream(&b, SHOP, &id).await;
    fire(&sb, "sell", r#"{"roles":["clerk"]}"#).await;
    let hb = handle(&b, url_options(server(), &[&id]));
    ok(hb.now()).await;
    let options = url_options(server(), &[&id]);
    js_sys::Reflect::set(&options, &"interval".into(), &600_000.into()).unwrap();
    js_sys::Reflect::set(&options, &"live".into(), &true.into()).unwrap();
    let ha = handle(&a, options);
    ha.start();
    let has = |n: u32| {
        let a = &a;
        let id = id.clone();
        async move {
            match wasm_bindgen_futures::JsFuture::from(a.stream(id)).await {
                Ok(s) => Array::from(&ok(stream_of(s).events(None)).await).length() == n,
                Err(_) => false,
            }
        }
    };
    let mut waited = 0;
    while !has(1).await {
        assert!(waited < 5_000, "the first sync did not happen");
        sleep(50).await;
        waited += 50;
    }
    sleep(300).await; // let the EventSource connect
    fire(&sb, "sell", r#"{"roles":["clerk"]}"#).await;
    ok(hb.now()).await;
    let mut waited = 0;
    while !has(2).await {
        assert!(waited < 5_000, "the live update did not wake the sync");
        sleep(50).await;
        waited += 50;
    }
    ha.stop();
    assert_eq!(chain(&a, &id).await, chain(&b, &id).await);
    // live needs a URL.
    let transport = js_backend();
    let o = transport_options(&transport, &[]);
    js_sys::Reflect::set(&o, &"live".into(), &true.into()).unwrap();
    assert!(a.sync(o).is_err());
}

/// The server is killed (SIGKILL) between two push batches of a sync and
/// started again on the same SQLite file: the acknowledged batch survived,
/// the failed sync is reported, and the next sync completes with the whole
/// chain on the server, nothing lost or doubled.
#[wasm_bindgen_test]
async fn a_server_restarted_in_the_middle_of_a_sync_loses_nothing_and_sync_resumes() {
    let control = option_env!("PETRICHAIN_TEST_RESTART_CONTROL")
        .expect("PETRICHAIN_TEST_RESTART_CONTROL is not set: run through scripts/ci/sync.sh");
    let base = option_env!("PETRICHAIN_TEST_RESTART_SERVER")
        .expect("PETRICHAIN_TEST_RESTART_SERVER is not set: run through scripts/ci/sync.sh");
    let id = unique("restart");
    let a = open(&unique("rst-a")).await;
    let sa = new_stream(&a, SHOP, &id).await;
    for ts in 1..=30 {
        fire(&sa, "restock", &format!(r#"{{"roles":["*"],"ts":{ts}}}"#)).await;
        fire(&sa, "sell", &format!(r#"{{"roles":["*"],"ts":{ts}}}"#)).await;
    }
    // A transport over fetch that kills the server right before its 2nd push.
    let make = Function::new_with_args(
        "base, control",
        r#"
        const call = async (method, path, body) => {
          const r = await fetch(base + "/v2" + path, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
          return { status: r.status, json: await r.json() };
        };
        const t = {
          name: base, pushes: 0, killBeforePush: 2,
          async pull(stream, after, limit) {
            const r = await call("GET", `/streams/${encodeURIComponent(stream)}/events?after=${after}&limit=${limit}`);
            return r.status === 404 ? null : r.json;
          },
          async push(stream, req) {
            t.pushes++;
            if (t.pushes === t.killBeforePush) {
              const k = await fetch(control + "/kill", { method: "POST" });
              if (!k.ok) throw new Error("control: kill failed");
            }
            const r = await call("POST", `/streams/${encodeURIComponent(stream)}/events`, req);
            return r.status === 409 ? { conflict: r.json.head } : r.json;
          },
          async getModel(id) { const r = await call("GET", `/models/${id}`); return r.status === 200 ? r.json : null; },
          async putModel(doc) { await call("PUT", `/models/${doc.id}`, doc); },
        };
        return t;
        "#,
    );
    let t = make
        .call2(&JsValue::NULL, &base.into(), &control.into())
        .unwrap();
    let options = transport_options(&t, &[&id]);
    js_sys::Reflect::set(&options, &"pushBatch".into(), &10.into()).unwrap();
    let ha = handle(&a, options);
    rejects(ha.now(), "NETWORK").await;
    assert_eq!(
        ok(ha.pending(None)).await.as_f64(),
        Some(50.0),
        "the first batch of 10 was acknowledged before the kill"
    );

    // Back up on the same file: the acknowledged batch is there, nothing more.
    let started = ok(js_sys::Promise::resolve(
        &Function::new_with_args(
            "control",
            "return fetch(control + '/start', { method: 'POST' }).then(r => r.ok)",
        )
        .call1(&JsValue::NULL, &control.into())
        .unwrap(),
    ))
    .await;
    assert_eq!(started.as_bool(), Some(true), "control: start failed");
    let full = chain(&a, &id).await;
    let c = JsLedger::in_memory().await.unwrap();
    ok(handle(&c, url_options(base, &[&id])).now()).await;
    let acknowledged = Array::from(&js(&chain(&c, &id).await));
    assert_eq!(acknowledged.length(), 10);
    let all = Array::from(&js(&full));
    for i in 0..10 {
        assert_eq!(
            json(&acknowledged.get(i)),
            json(&all.get(i)),
            "event {i} as acknowledged"
        );
    }

    // The next sync resumes and completes; the server holds the whole chain once.
    let report = ok(ha.now()).await;
    let sr = get(&get(&report, "streams"), "0");
    assert_eq!((num(&sr, "pushed"), num(&sr, "pending")), (50.0, 0.0));
    let d = JsLedger::in_memory().await.unwrap();
    ok(handle(&d, url_options(base, &[&id])).now()).await;
    assert_eq!(chain(&d, &id).await, full);
    assert_eq!(Array::from(&ok(d.verify(None)).await).length(), 1);
    a.close();
}

/// Issue 12 through the real server: two devices record the same action by
/// the same actor, same payload and ts, on the same head, offline (and
/// again with the defaults): after both sync, both actions are kept (one
/// rebased) and the counts add up.
#[wasm_bindgen_test]
async fn the_same_action_on_two_devices_is_two_events_through_the_server() {
    for options in [
        r#"{"actor":"ann","roles":["clerk"],"payload":{"sku":7},"ts":1700000000000}"#,
        r#"{"roles":["clerk"],"ts":1700000000000}"#,
    ] {
        let id = unique("dup");
        let (a, b) = (
            open(&unique("srv-dup-a")).await,
            open(&unique("srv-dup-b")).await,
        );
        let sa = new_stream(&a, SHOP, &id).await;
        let sb = new_stream(&b, SHOP, &id).await;
        grant(&sa, &b.device_key(), "clerk").await;
        fire(&sa, "sell", options).await;
        fire(&sb, "sell", options).await;
        ok(handle(&a, url_options(server(), &[&id])).now()).await;
        let r = ok(handle(&b, url_options(server(), &[&id])).now()).await;
        let sr = get(&get(&r, "streams"), "0");
        assert_eq!(
            (num(&sr, "pulled"), num(&sr, "rebased"), num(&sr, "pushed")),
            (2.0, 1.0, 1.0),
            "{options}"
        );
        ok(handle(&a, url_options(server(), &[&id])).now()).await;
        for ledger in [&a, &b] {
            let s = stream_of(ok(ledger.stream(id.clone())).await);
            assert_eq!(
                json(&s.marking().unwrap()),
                r#"{"sold":2,"stock":3}"#,
                "{options}"
            );
        }
        let ca = chain(&a, &id).await;
        assert_eq!(ca, chain(&b, &id).await);
        let events = Array::from(&js(&ca));
        assert_eq!(events.length(), 3);
        assert_eq!(
            get(&events.get(1), "signer").as_string().unwrap(),
            a.device_key()
        );
        assert_eq!(
            get(&events.get(2), "signer").as_string().unwrap(),
            b.device_key()
        );
        a.close();
        b.close();
    }
}

/// Through the real server: an empty local stream reaches it with the
/// default scope (the local streams), a new device does not download it
/// unless it follows it, and then gets it empty, with its model.
#[wasm_bindgen_test]
async fn an_empty_stream_syncs_through_the_server_and_is_followed_not_downloaded() {
    let id = unique("empty");
    let a = open(&unique("srv-empty-a")).await;
    new_stream(&a, SHOP, &id).await;
    ok(handle(&a, url_options(server(), &[])).now()).await;
    let fetch: Function = js_sys::Reflect::get(&js_sys::global(), &"fetch".into())
        .unwrap()
        .unchecked_into();
    let answer = fetch
        .call1(&JsValue::NULL, &format!("{}/v2/streams", server()).into())
        .unwrap();
    let listed = ok(answer.unchecked_into()).await;
    let body = ok(js_sys::Reflect::get(&listed, &"json".into())
        .unwrap()
        .unchecked_into::<Function>()
        .call0(&listed)
        .unwrap()
        .unchecked_into())
    .await;
    let ids: Vec<String> = Array::from(&get(&body, "streams"))
        .iter()
        .map(|s| get(&s, "id").as_string().unwrap())
        .collect();
    assert!(
        ids.contains(&id),
        "the server lists the empty stream: {ids:?}"
    );

    let b = open(&unique("srv-empty-b")).await;
    ok(handle(&b, url_options(server(), &[])).now()).await;
    assert_eq!(
        Array::from(&ok(b.streams()).await).length(),
        0,
        "not downloaded"
    );
    let follow = url_options(server(), &[]);
    js_sys::Reflect::set(&follow, &"follow".into(), &Array::of1(&id.as_str().into())).unwrap();
    ok(handle(&b, follow).now()).await;
    let got = Array::from(&ok(b.streams()).await);
    assert_eq!(got.length(), 1);
    assert_eq!(get(&got.get(0), "seq").as_f64(), Some(0.0));
    assert_eq!(
        get(&got.get(0), "model"),
        get(&Array::from(&ok(a.streams()).await).get(0), "model")
    );
    a.close();
    b.close();
}

fn auth_server() -> &'static str {
    option_env!("PETRICHAIN_TEST_AUTH_SERVER").expect(
        "PETRICHAIN_TEST_AUTH_SERVER is not set: run these tests through scripts/ci/sync.sh",
    )
}

fn operator_token() -> &'static str {
    option_env!("PETRICHAIN_TEST_AUTH_OPERATOR_TOKEN")
        .expect("PETRICHAIN_TEST_AUTH_OPERATOR_TOKEN is not set: run through scripts/ci/sync.sh")
}

/// A `getAuth` that records its reasons in `holder.calls` and answers
/// `{token: holder.tokens[i]}` (the last one once they run out).
fn recording_get_auth(holder: &JsValue) -> Function {
    let f = Function::new_with_args(
        "info",
        "this.calls.push(info.reason); \
         const t = this.tokens[Math.min(this.calls.length, this.tokens.length) - 1]; \
         return Promise.resolve({ token: t });",
    );
    f.bind0(holder)
}

fn with(options: &JsValue, key: &str, value: &JsValue) {
    js_sys::Reflect::set(options, &key.into(), value).unwrap();
}

/// Issue 13: against a server with authentication on, `getAuth` is asked
/// before the first request and again on a 401 (the request then goes
/// through); a second 401 rejects with UNAUTHENTICATED; another device's
/// key is refused the stream (FORBIDDEN); `ledger.authenticate` signs in
/// with the WebCrypto device key.
#[wasm_bindgen_test]
async fn get_auth_is_asked_again_on_401_and_device_keys_sign_in() {
    let id = unique("auth");
    let a = JsLedger::in_memory().await.unwrap();
    let sa = new_stream(&a, SHOP, &id).await;
    fire(&sa, "sell", r#"{"roles":["clerk"]}"#).await;

    // No credentials: UNAUTHENTICATED, not retried as a network error.
    rejects(
        handle(&a, url_options(auth_server(), &[&id])).now(),
        "UNAUTHENTICATED",
    )
    .await;

    let signed_in = ok(a.authenticate(auth_server().into()).unwrap()).await;
    let token = get(&signed_in, "token").as_string().unwrap();
    assert_eq!(token.len(), 64);
    assert_eq!(get(&signed_in, "key").as_string().unwrap(), a.device_key());
    assert!(num(&signed_in, "expiresIn") > 0.0);

    // A stale token first, then the good one: asked twice, synced.
    let holder = js(&format!(
        r#"{{"calls": [], "tokens": ["stale-token", "{token}"]}}"#
    ));
    let options = url_options(auth_server(), &[&id]);
    with(&options, "getAuth", &recording_get_auth(&holder));
    let r = ok(handle(&a, options).now()).await;
    assert_eq!(num(&get(&get(&r, "streams"), "0"), "pushed"), 1.0);
    assert_eq!(
        json(&get(&holder, "calls")),
        r#"["initial","unauthorized"]"#
    );

    // Always stale: each request asks once more after its 401, then the
    // sync rejects with UNAUTHENTICATED (one request per stream step, so a
    // few asks, never a loop).
    let holder = js(r#"{"calls": [], "tokens": ["stale-token"]}"#);
    let options = url_options(auth_server(), &[&id]);
    with(&options, "getAuth", &recording_get_auth(&holder));
    rejects(handle(&a, options).now(), "UNAUTHENTICATED").await;
    let calls: Vec<String> = Array::from(&get(&holder, "calls"))
        .iter()
        .map(|c| c.as_string().unwrap())
        .collect();
    assert_eq!(calls[0], "initial", "{calls:?}");
    assert!(
        calls.len() >= 2 && calls.len() <= 4 && calls[1..].iter().all(|c| c == "unauthorized"),
        "{calls:?}"
    );
    // Another device, signed in with its own key: the stream is not its.
    let b = JsLedger::in_memory().await.unwrap();
    let tb = get(
        &ok(b.authenticate(auth_server().into()).unwrap()).await,
        "token",
    )
    .as_string()
    .unwrap();
    let http = HttpTransport::new(
        auth_server(),
        vec![("Authorization".into(), format!("Bearer {tb}"))],
    );
    match http.pull(&id, 0, 10).await {
        Err(e) => assert_eq!(e.code(), "FORBIDDEN", "{e}"),
        Ok(page) => panic!("another key pulled the stream: {page:?}"),
    }
    let listed = http.list_streams().await.unwrap().unwrap();
    assert!(
        listed.streams.iter().all(|s| s.id != id),
        "another key's stream is listed"
    );
    // Following it through the scheduler says why it cannot be read.
    let holder = js(&format!(r#"{{"calls": [], "tokens": ["{tb}"]}}"#));
    let options = url_options(auth_server(), &[&id]);
    with(&options, "getAuth", &recording_get_auth(&holder));
    rejects(handle(&b, options).now(), "FORBIDDEN").await;
    a.close();
    b.close();
}

/// Issue 13: live updates with credentials go through a fetch stream that
/// sends them (EventSource cannot): another client's append (an operator
/// script here, `headers` with its bearer token) wakes the sync at once.
#[wasm_bindgen_test]
async fn live_updates_work_with_auth() {
    let id = unique("live-auth");
    let a = JsLedger::in_memory().await.unwrap();
    let b = JsLedger::in_memory().await.unwrap();
    let sa = new_stream(&a, SHOP, &id).await;
    grant(&sa, &b.device_key(), "clerk").await;
    fire(&sa, "sell", r#"{"roles":["clerk"]}"#).await;
    let token = get(
        &ok(a.authenticate(auth_server().into()).unwrap()).await,
        "token",
    )
    .as_string()
    .unwrap();
    let holder = js(&format!(r#"{{"calls": [], "tokens": ["{token}"]}}"#));
    let options = url_options(auth_server(), &[&id]);
    with(&options, "getAuth", &recording_get_auth(&holder));
    with(&options, "interval", &600_000.into());
    with(&options, "live", &true.into());
    let ha = handle(&a, options);
    ha.start();

    // The operator's client pulls the stream (after a's first push), fires, pushes.
    let ob = url_options(auth_server(), &[&id]);
    with(
        &ob,
        "headers",
        &js(&format!(
            r#"{{"Authorization": "Bearer {}"}}"#,
            operator_token()
        )),
    );
    let hb = handle(&b, ob);
    let mut waited = 0;
    loop {
        let r = wasm_bindgen_futures::JsFuture::from(hb.now()).await;
        if let Ok(r) = r {
            if num(&get(&get(&r, "streams"), "0"), "pulled") >= 2.0 {
                break;
            }
        }
        assert!(waited < 5_000, "a's first push did not reach the server");
        sleep(100).await;
        waited += 100;
    }
    // Let the live stream connect (its first try may have come before the
    // stream existed: a retry after 1 s).
    sleep(2_500).await;
    let sb = stream_of(ok(b.stream(id.clone())).await);
    fire(&sb, "sell", r#"{"roles":["clerk"]}"#).await;
    ok(hb.now()).await;
    let mut waited = 0;
    loop {
        let events = Array::from(&ok(stream_of(ok(a.stream(id.clone())).await).events(None)).await);
        if events.length() == 3 {
            break;
        }
        assert!(
            waited < 5_000,
            "the live update (with auth) did not wake the sync"
        );
        sleep(50).await;
        waited += 50;
    }
    ha.stop();
    assert_eq!(chain(&a, &id).await, chain(&b, &id).await);
    assert_eq!(json(&get(&holder, "calls")), r#"["initial"]"#);
    a.close();
    b.close();
}
