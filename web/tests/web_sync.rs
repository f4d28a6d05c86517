//! `ledger.sync(...)` in headless Chromium without a server: a JS transport
//! object over a plain-JS backend, IndexedDB ledgers, conflicts, bad
//! remotes, continuous sync, argument errors. The same client against the
//! real reference server is in sync_server_web.rs (scripts/ci/sync.sh).
#![cfg(target_arch = "wasm32")]

mod websync;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Reflect};
use petrichain_web::JsLedger;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn two_indexeddb_ledgers_sync_through_a_js_transport_and_converge() {
    let backend = js_backend();
    let (a, b) = (open(&unique("jt-a")).await, open(&unique("jt-b")).await);
    let sa = new_stream(&a, SHOP, "till").await;
    let sb = new_stream(&b, SHOP, "till").await;
    grant(&sa, &b.device_key(), "clerk").await;
    // Offline: both record.
    fire(&sa, "sell", r#"{"actor":"ann","roles":["clerk"],"ts":1}"#).await;
    fire(&sa, "sell", r#"{"actor":"ann","roles":["clerk"],"ts":2}"#).await;
    fire(
        &sb,
        "sell",
        r#"{"actor":"bob","roles":["clerk"],"payload":{"n":1},"ts":3}"#,
    )
    .await;
    let ha = handle(&a, transport_options(&backend, &[]));
    let hb = handle(&b, transport_options(&backend, &[]));
    assert_eq!(ha.backend(), "js-backend");
    assert_eq!(ok(ha.pending(None)).await.as_f64(), Some(3.0));
    let ra = ok(ha.now()).await;
    assert_eq!(num(&get(&get(&ra, "streams"), "0"), "pushed"), 3.0);
    let rb = ok(hb.now()).await;
    let sr = get(&get(&rb, "streams"), "0");
    assert_eq!(
        (num(&sr, "pulled"), num(&sr, "rebased"), num(&sr, "pushed")),
        (3.0, 1.0, 1.0)
    );
    ok(ha.now()).await;
    assert_eq!(chain(&a, "till").await, chain(&b, "till").await);
    assert_eq!(
        ok(hb.pending(Some("till".into()))).await.as_f64(),
        Some(0.0)
    );
    assert_eq!(Array::from(&ok(a.verify(None)).await).length(), 1);
    let events = ok(stream_of(ok(b.stream("till".into())).await).events(None)).await;
    let third = Array::from(&events).get(3);
    assert_eq!(get(&third, "actor").as_string().unwrap(), "bob");
    assert_eq!(
        js_sys::JSON::stringify(&get(&third, "payload")).unwrap(),
        r#"{"n":1}"#
    );
    assert_eq!(get(&third, "ts").as_f64(), Some(3.0));
    // A third ledger that never saw the stream does not download it by
    // default; following it, gets it, model included.
    let c = open(&unique("jt-c")).await;
    ok(handle(&c, transport_options(&backend, &[])).now()).await;
    assert_eq!(Array::from(&ok(c.streams()).await).length(), 0);
    let follow = transport_options(&backend, &[]);
    Reflect::set(&follow, &"follow".into(), &Array::of1(&"till".into())).unwrap();
    ok(handle(&c, follow).now()).await;
    assert_eq!(chain(&c, "till").await, chain(&a, "till").await);
    for l in [a, b, c] {
        l.close();
    }
}

#[wasm_bindgen_test]
async fn a_conflicting_offline_spend_ends_as_one_event_and_one_recorded_conflict() {
    let backend = js_backend();
    let (a, b) = (open(&unique("cs-a")).await, open(&unique("cs-b")).await);
    let sa = new_stream(&a, COIN, "wallet").await;
    let sb = new_stream(&b, COIN, "wallet").await;
    fire(&sa, "spend", r#"{"actor":"ann","ts":1}"#).await;
    fire(
        &sb,
        "spend",
        r#"{"actor":"bob","payload":{"to":"carol"},"ts":2}"#,
    )
    .await;
    ok(handle(&a, transport_options(&backend, &["wallet"])).now()).await;
    let hb = handle(&b, transport_options(&backend, &["wallet"]));
    let seen = Rc::new(RefCell::new(Vec::<JsValue>::new()));
    let s2 = seen.clone();
    let cb = Closure::<dyn Fn(JsValue)>::new(move |c: JsValue| s2.borrow_mut().push(c));
    let _off = hb
        .on("conflict".into(), cb.as_ref().clone().into())
        .unwrap();
    let report = ok(hb.now()).await;
    assert_eq!(num(&get(&get(&report, "streams"), "0"), "conflicts"), 1.0);
    assert_eq!(chain(&a, "wallet").await, chain(&b, "wallet").await);
    let list = Array::from(&ok(b.conflicts("wallet".into())).await);
    assert_eq!(list.length(), 1);
    let c = list.get(0);
    assert_eq!(get(&c, "code").as_string().unwrap(), "NOT_ENABLED");
    assert_eq!(
        get(&get(&c, "reason"), "place").as_string().unwrap(),
        "coin"
    );
    assert_eq!(get(&get(&c, "event"), "actor").as_string().unwrap(), "bob");
    assert_eq!(
        js_sys::JSON::stringify(&get(&get(&c, "event"), "payload")).unwrap(),
        r#"{"to":"carol"}"#
    );
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(json(&seen.borrow()[0]), json(&c));
    // Kept (it is in IndexedDB) until discarded, one by its event's hash...
    assert_eq!(
        ok(b.discard_conflict("wallet".into(), "ab".into()))
            .await
            .as_f64(),
        Some(0.0)
    );
    let hash = get(&get(&c, "event"), "hash").as_string().unwrap();
    assert_eq!(
        ok(b.discard_conflict("wallet".into(), hash)).await.as_f64(),
        Some(1.0)
    );
    // ... or all at once.
    assert_eq!(
        ok(b.clear_conflicts("wallet".into())).await.as_f64(),
        Some(0.0)
    );
    assert_eq!(
        Array::from(&ok(b.conflicts("wallet".into())).await).length(),
        0
    );
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn conflicts_survive_reopening_the_ledger() {
    let backend = js_backend();
    let (na, nb) = (unique("cr-a"), unique("cr-b"));
    let (a, b) = (open(&na).await, open(&nb).await);
    fire(&new_stream(&a, COIN, "w").await, "spend", "{}").await;
    fire(&new_stream(&b, COIN, "w").await, "spend", "{}").await;
    ok(handle(&a, transport_options(&backend, &[])).now()).await;
    ok(handle(&b, transport_options(&backend, &[])).now()).await;
    b.close();
    let b = open(&nb).await;
    assert_eq!(Array::from(&ok(b.conflicts("w".into())).await).length(), 1);
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn a_js_transport_that_throws_returns_garbage_or_tampers_is_refused_and_nothing_changes() {
    let backend = js_backend();
    let a = open(&unique("bad-a")).await;
    let sa = new_stream(&a, SHOP, "till").await;
    let b = open(&unique("bad-b")).await;
    grant(&sa, &b.device_key(), "manager").await;
    for n in 1..=3 {
        fire(&sa, "sell", &format!(r#"{{"roles":["clerk"],"ts":{n}}}"#)).await;
    }
    ok(handle(&a, transport_options(&backend, &[])).now()).await;

    let sb = new_stream(&b, SHOP, "till").await;
    fire(&sb, "restock", r#"{"roles":["manager"],"ts":9}"#).await;
    let fresh = JsLedger::in_memory().await.unwrap();
    for (fault, code) in [
        ("throw", "NETWORK"),
        ("garbage", "BAD_RESPONSE"),
        ("tamper", "REMOTE_CHAIN_INVALID"),
    ] {
        Reflect::set(&backend, &"fault".into(), &fault.into()).unwrap();
        for ledger in [&b, &fresh] {
            let before = snapshot(ledger, "till").await;
            let h = handle(ledger, transport_options(&backend, &["till"]));
            let statuses = Rc::new(RefCell::new(Vec::<String>::new()));
            let s2 = statuses.clone();
            let cb = Closure::<dyn Fn(JsValue)>::new(move |s: JsValue| {
                s2.borrow_mut().push(s.as_string().unwrap())
            });
            h.on("status".into(), cb.as_ref().clone().into()).unwrap();
            let err = rejects(h.now(), code).await;
            if fault == "tamper" {
                let inner = get(&get(&err, "details"), "error");
                assert_eq!(get(&inner, "code").as_string().unwrap(), "HASH_MISMATCH");
                assert_eq!(get(&inner, "seq").as_f64(), Some(2.0));
            }
            let expected = if fault == "throw" { "offline" } else { "error" };
            assert_eq!(h.status(), expected);
            assert_eq!(*statuses.borrow(), ["syncing", expected]);
            assert_eq!(get(&h.last_error(), "code").as_string().unwrap(), code);
            assert_eq!(
                snapshot(ledger, "till").await,
                before,
                "{fault} changed the store"
            );
        }
    }
    Reflect::set(&backend, &"fault".into(), &JsValue::NULL).unwrap();
    ok(handle(&b, transport_options(&backend, &[])).now()).await;
    // Healed: b has a's four events (its grant, three sales), then its own
    // restock rebased on them.
    let (ca, cb) = (chain(&a, "till").await, chain(&b, "till").await);
    assert!(cb.starts_with(&ca[..ca.len() - 1]), "{cb}");
    let events = Array::from(&js(&cb));
    assert_eq!(events.length(), 5);
    assert_eq!(
        get(&events.get(4), "action").as_string().unwrap(),
        "restock"
    );
    assert_eq!(Array::from(&ok(b.verify(None)).await).length(), 1);
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn an_unreachable_url_is_a_network_error() {
    let ledger = JsLedger::in_memory().await.unwrap();
    new_stream(&ledger, SHOP, "till").await;
    // Port 9 (discard) on loopback: nothing listens there.
    let h = handle(&ledger, url_options("http://127.0.0.1:9/api", &["till"]));
    assert_eq!(h.backend(), "http://127.0.0.1:9/api");
    let err = rejects(h.now(), "NETWORK").await;
    assert!(describe(&err).contains("127.0.0.1:9"), "{}", describe(&err));
    assert_eq!(h.status(), "offline");
}

#[wasm_bindgen_test]
async fn bad_sync_options_throw_bad_argument() {
    let ledger = JsLedger::in_memory().await.unwrap();
    for options in [
        "null",
        "{}",
        r#"{"url": 5}"#,
        r#"{"url": "ftp://x"}"#,
        r#"{"url": "http://x", "interval": -1}"#,
        r#"{"url": "http://x", "streams": "till"}"#,
        r#"{"url": "http://x", "headers": {"a": 1}}"#,
        r#"{"transport": {"pull": 1}}"#,
    ] {
        let err = match ledger.sync(js(options)) {
            Err(e) => e,
            Ok(_) => panic!("{options} was accepted"),
        };
        assert!(err.is_instance_of::<js_sys::Error>());
        assert_eq!(
            get(&err, "code").as_string().unwrap(),
            "BAD_ARGUMENT",
            "{options}"
        );
    }
    let h = handle(&ledger, url_options("http://127.0.0.1:9", &[]));
    assert!(h
        .on("nope".into(), js_sys::Function::new_no_args(""))
        .is_err());
}

#[wasm_bindgen_test]
async fn continuous_sync_pushes_local_changes_and_stops() {
    let backend = js_backend();
    let a = open(&unique("cont-a")).await;
    let sa = new_stream(&a, SHOP, "till").await;
    let options = transport_options(&backend, &["till"]);
    Reflect::set(&options, &"interval".into(), &60_000.into()).unwrap();
    let h = handle(&a, options);
    let progress = Rc::new(RefCell::new(Vec::<String>::new()));
    let p2 = progress.clone();
    let cb = Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
        p2.borrow_mut().push(get(&e, "type").as_string().unwrap())
    });
    h.on("progress".into(), cb.as_ref().clone().into()).unwrap();
    h.start();
    assert!(h.running());
    fire(&sa, "sell", r#"{"roles":["clerk"]}"#).await;
    // The local change wakes the loop long before the 60 s interval.
    let pushed = |n: u32| {
        let streams = get(&backend, "data");
        let s = js_sys::Map::from(streams).get(&"till".into());
        !s.is_undefined() && Array::from(&get(&s, "events")).length() == n
    };
    let mut waited = 0;
    while !pushed(1) {
        assert!(
            waited < 5_000,
            "the change was not pushed: {:?}",
            progress.borrow()
        );
        sleep(50).await;
        waited += 50;
    }
    assert!(progress.borrow().contains(&"pushed".to_string()));
    h.stop();
    assert!(!h.running());
    sleep(100).await;
    fire(&sa, "sell", r#"{"roles":["clerk"]}"#).await;
    sleep(300).await;
    assert!(pushed(1), "stopped, yet it synced");
    assert_eq!(ok(h.pending(None)).await.as_f64(), Some(1.0));
    a.close();
}

/// Two tabs (two connections to one IndexedDB ledger) syncing at once: the
/// Web Lock makes one sync wait for the other, so their requests never
/// interleave, and the second sees the first one's result.
#[wasm_bindgen_test]
async fn two_tabs_never_sync_at_the_same_time() {
    let backend = js_backend();
    let name = unique("locks");
    let (tab1, tab2) = (open(&name).await, open(&name).await);
    let s = new_stream(&tab1, SHOP, "till").await;
    fire(&s, "sell", r#"{"roles":["clerk"]}"#).await;
    let wrap = js_sys::Function::new_with_args(
        "backend, tag, log",
        r#"
        const slow = () => new Promise((ok) => setTimeout(ok, 30));
        return {
          name: backend.name,
          async pull(...a) { log.push(tag); await slow(); return backend.pull(...a); },
          async push(...a) { log.push(tag); await slow(); return backend.push(...a); },
          getModel: (id) => backend.getModel(id),
          putModel: (doc) => backend.putModel(doc),
        };
        "#,
    );
    let log = Array::new();
    let t1 = wrap
        .call3(&JsValue::NULL, &backend, &"1".into(), &log)
        .unwrap();
    let t2 = wrap
        .call3(&JsValue::NULL, &backend, &"2".into(), &log)
        .unwrap();
    let (h1, h2) = (
        handle(&tab1, transport_options(&t1, &["till"])),
        handle(&tab2, transport_options(&t2, &["till"])),
    );
    let both = js_sys::Promise::all(&Array::of2(&h1.now(), &h2.now()));
    let reports = Array::from(&ok(both).await);
    let tags: Vec<String> = log.iter().map(|v| v.as_string().unwrap()).collect();
    let switches = tags.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(switches, 1, "interleaved: {tags:?}");
    // Whichever ran first pushed the event; the other found nothing to do.
    let pushed: f64 = reports
        .iter()
        .map(|r| num(&get(&get(&r, "streams"), "0"), "pushed"))
        .sum();
    assert_eq!(pushed, 1.0);
    tab1.close();
    tab2.close();
}

/// Two devices record the same action by the same actor with the same
/// payload and ts on the same head, offline (issue 12): both are kept after
/// they sync, the second rebased on the first, and the counts add up. Under
/// chain format 1 the two events hashed alike and the second was taken for
/// a copy of the first (sold 2 instead of 4 here).
#[wasm_bindgen_test]
async fn the_same_action_on_two_devices_is_two_events_after_sync() {
    for (label, options) in [
        (
            "ann, same payload and ts",
            r#"{"actor":"ann","roles":["clerk"],"payload":{"sku":7},"ts":1700000000000}"#,
        ),
        (
            "defaults, same ts",
            r#"{"roles":["clerk"],"ts":1700000000000}"#,
        ),
    ] {
        let backend = js_backend();
        let (a, b) = (open(&unique("dup-a")).await, open(&unique("dup-b")).await);
        assert_ne!(a.device_key(), b.device_key());
        let sa = new_stream(&a, SHOP, "till").await;
        let sb = new_stream(&b, SHOP, "till").await;
        grant(&sa, &b.device_key(), "clerk").await;
        for _ in 0..2 {
            let (ea, eb) = (
                fire(&sa, "sell", options).await,
                fire(&sb, "sell", options).await,
            );
            assert_ne!(get(&ea, "hash"), get(&eb, "hash"), "{label}");
        }
        ok(handle(&a, transport_options(&backend, &[])).now()).await;
        let rb = ok(handle(&b, transport_options(&backend, &[])).now()).await;
        let sr = get(&get(&rb, "streams"), "0");
        assert_eq!(
            (
                num(&sr, "pulled"),
                num(&sr, "rebased"),
                num(&sr, "pushed"),
                num(&sr, "conflicts")
            ),
            (3.0, 2.0, 2.0, 0.0),
            "{label}"
        );
        ok(handle(&a, transport_options(&backend, &[])).now()).await;
        for ledger in [&a, &b] {
            let s = stream_of(ok(ledger.stream("till".into())).await);
            assert_eq!(
                json(&s.marking().unwrap()),
                r#"{"sold":4,"stock":1}"#,
                "{label}"
            );
            let events = Array::from(&ok(s.events(None)).await);
            assert_eq!(events.length(), 5, "{label}");
            let signers: Vec<String> = events
                .iter()
                .map(|e| get(&e, "signer").as_string().unwrap())
                .collect();
            assert_eq!(
                signers,
                [
                    a.device_key(),
                    a.device_key(),
                    a.device_key(),
                    b.device_key(),
                    b.device_key()
                ],
                "{label}"
            );
            assert_eq!(Array::from(&ok(ledger.verify(None)).await).length(), 1);
        }
        // (b's two rebased events are one signature run there; a pulled
        // them signed.)
        assert_eq!(
            chain_hashes(&a, "till").await,
            chain_hashes(&b, "till").await
        );
        a.close();
        b.close();
    }
}

/// Forged remote events, served through a JS transport, are refused with
/// their code and seq before anything is stored: a changed event rehashed
/// (its signature no longer fits), no signature, a signature replayed from
/// another event, another key's signature under the device's name, a lying
/// marking root or delta (signed by the forger's own, valid, key).
#[wasm_bindgen_test]
async fn forged_remote_events_are_refused_with_their_code_and_seq() {
    use petrichain::chain::{hash::event_hash, signed_message, Event, SoftwareKey};
    let backend = js_backend();
    let a = JsLedger::in_memory().await.unwrap();
    let sa = new_stream(&a, SHOP, "till").await;
    // The forger's key holds `clerk`: what it signs is refused for what it
    // forged, not for a missing grant.
    let forger = SoftwareKey::from_seed(&[42; 32]);
    let forger_key = hex::encode(petrichain::chain::Device::public_key(&forger));
    grant(&sa, &forger_key, "clerk").await;
    for n in 1..=3 {
        fire(&sa, "sell", &format!(r#"{{"roles":["clerk"],"ts":{n}}}"#)).await;
    }
    ok(handle(&a, transport_options(&backend, &[])).now()).await;
    let honest: Vec<Event> =
        serde_json::from_str(&chain(&a, "till").await).expect("events parse as v2");
    let sign = |e: &mut Event, key: &SoftwareKey| {
        e.hash = event_hash(e);
        e.sig = hex::encode(key.sign_now(&signed_message(&e.hash)));
    };
    let mut cases: Vec<(&str, Event, &str)> = Vec::new();
    let mut e = honest[1].clone();
    e.payload = r#"{"forged":true}"#.into();
    e.hash = event_hash(&e);
    cases.push(("changed and rehashed", e.clone(), "BAD_SIGNATURE"));
    let mut missing = e.clone();
    missing.sig = String::new();
    cases.push(("no signature", missing, "BAD_SIGNATURE"));
    let mut replayed = e.clone();
    replayed.sig = honest[0].sig.clone();
    cases.push(("replayed signature", replayed, "BAD_SIGNATURE"));
    let mut impostor = e.clone();
    impostor.sig = hex::encode(forger.sign_now(&signed_message(&impostor.hash)));
    cases.push(("another key's signature", impostor, "BAD_SIGNATURE"));
    let mut root = honest[1].clone();
    root.signer = hex::encode(petrichain::chain::Device::public_key(&forger));
    root.root = "ab".repeat(32);
    sign(&mut root, &forger);
    cases.push(("lying root", root, "COMMITMENT_MISMATCH"));
    let mut delta = honest[1].clone();
    delta.signer = hex::encode(petrichain::chain::Device::public_key(&forger));
    delta.delta = vec![("sold".into(), 9), ("stock".into(), 3)];
    sign(&mut delta, &forger);
    cases.push(("lying delta", delta, "STATE_MISMATCH"));

    let events = Reflect::get(
        &js_sys::Map::from(get(&backend, "data")).get(&"till".into()),
        &"events".into(),
    )
    .unwrap();
    for (label, forged, code) in cases {
        let value = js(&serde_json::to_string(&forged).unwrap());
        Reflect::set(&events, &1.into(), &value).unwrap();
        let fresh = JsLedger::in_memory().await.unwrap();
        let err = rejects(
            handle(&fresh, transport_options(&backend, &["till"])).now(),
            "REMOTE_CHAIN_INVALID",
        )
        .await;
        let inner = get(&get(&err, "details"), "error");
        assert_eq!(
            (get(&inner, "code").as_string(), get(&inner, "seq").as_f64()),
            (Some(code.to_string()), Some(2.0)),
            "{label}: {}",
            describe(&err)
        );
        assert_eq!(
            snapshot(&fresh, "till").await,
            "UNKNOWN_STREAM\n[]",
            "{label}"
        );
    }
    // The honest event back: the chain pulls and verifies.
    let value = js(&serde_json::to_string(&honest[1]).unwrap());
    Reflect::set(&events, &1.into(), &value).unwrap();
    let fresh = JsLedger::in_memory().await.unwrap();
    ok(handle(&fresh, transport_options(&backend, &["till"])).now()).await;
    assert_eq!(chain(&fresh, "till").await, chain(&a, "till").await);
}
