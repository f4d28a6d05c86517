//! The reference server as a client sees it: a real `petrichain-server`
//! process on 127.0.0.1:0 per test, stopped after.

#[macro_use]
mod common;
mod keyed;

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use common::*;
use keyed::*;
use petrichain::chain::{verify_events, Device, Event};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, SyncStore};
use petrichain::sync::protocol::{AppendOk, EventPage, Head, ModelDoc, StreamList};
use petrichain::sync::{sync_stream, SyncOptions};

fn models_put_get_and_refusals(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();

    let r = put_model(&mut c, &m);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(put_model(&mut c, &m).status, 200, "idempotent");
    let r = c.get(&format!("/v2/models/{}", m.id())).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json::<ModelDoc>().unwrap(), model_doc(&m));

    let unknown = "ab".repeat(32);
    let r = c.get(&format!("/v2/models/{unknown}")).unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (404, "MODEL_NOT_FOUND")
    );

    // The body's id is not the path's / not the hash of the json.
    let r = c
        .send_json("PUT", &format!("/v2/models/{unknown}"), &model_doc(&m))
        .unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (400, "MODEL_ID_MISMATCH")
    );
    let doc = ModelDoc {
        id: unknown.clone(),
        json: m.canonical_json(),
    };
    let r = c
        .send_json("PUT", &format!("/v2/models/{unknown}"), &doc)
        .unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (400, "MODEL_ID_MISMATCH")
    );

    // Hash right, net invalid: an arc to a place that does not exist.
    let bad = r#"{"places":[{"id":"p"}],"transitions":[{"id":"t"}],"arcs":[{"source":"nowhere","target":"t"}]}"#;
    let id = sha256_hex(bad);
    let r = c
        .send_json(
            "PUT",
            &format!("/v2/models/{id}"),
            &ModelDoc {
                id: id.clone(),
                json: bad.into(),
            },
        )
        .unwrap();
    let body = error(&r);
    assert_eq!((r.status, body.code.as_str()), (422, "INVALID_MODEL"));
    assert!(body.problems.is_some_and(|p| p.is_array()));

    // Hash right, net valid, but not the canonical text: it would load with
    // another id, so it is refused.
    let loose = NET.to_string();
    let id = sha256_hex(&loose);
    let r = c
        .send_json(
            "PUT",
            &format!("/v2/models/{id}"),
            &ModelDoc {
                id: id.clone(),
                json: loose,
            },
        )
        .unwrap();
    let body = error(&r);
    assert_eq!((r.status, body.code.as_str()), (422, "INVALID_MODEL"));
    assert_eq!(body.problems.unwrap()[0]["code"], "NOT_CANONICAL");

    let r = c
        .request("PUT", &format!("/v2/models/{id}"), &[], Some(b"{\"id\": 3"))
        .unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (400, "MALFORMED_JSON"));
    // Nothing but the one good model was stored.
    assert_eq!(
        c.get(&format!("/v2/models/{id}")).unwrap().status,
        404,
        "refused models are not stored"
    );
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn append_pull_and_list_streams(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);

    // Events are unique (a random nonce each): one chain, sent in two parts.
    let more = chain(&m, "order-1", &spends(5));
    let events = more[..3].to_vec();
    let r = append(&mut c, "order-1", &request(&m, Head::zero(), &events));
    assert_eq!(r.status, 200, "{}", r.text());
    let ok: AppendOk = r.json().unwrap();
    assert_eq!(ok.head, head_of(&events[2]));
    assert_eq!((ok.stored, ok.duplicates), (3, 0));

    let list: StreamList = c.get("/v2/streams").unwrap().json().unwrap();
    assert_eq!(list.streams.len(), 1);
    assert_eq!(list.streams[0].id, "order-1");
    assert_eq!(list.streams[0].model, m.id());
    assert_eq!(list.streams[0].head, head_of(&events[2]));

    let page: EventPage = c.get("/v2/streams/order-1/events").unwrap().json().unwrap();
    assert_eq!(page.events, events, "events come back exactly as sent");
    assert_eq!((page.more, page.model.as_str()), (false, m.id()));
    let page: EventPage = c
        .get("/v2/streams/order-1/events?after=0&limit=2")
        .unwrap()
        .json()
        .unwrap();
    assert_eq!((page.events.len(), page.more), (2, true));
    let page: EventPage = c
        .get("/v2/streams/order-1/events?after=2&limit=2")
        .unwrap()
        .json()
        .unwrap();
    assert_eq!((page.events, page.more), (events[2..].to_vec(), false));
    let page: EventPage = c
        .get("/v2/streams/order-1/events?after=3")
        .unwrap()
        .json()
        .unwrap();
    assert!(page.events.is_empty() && !page.more);
    assert_eq!(page.head, head_of(&events[2]));

    // Appending on top of the head, then verifying the whole stream.
    let r = append(
        &mut c,
        "order-1",
        &request(&m, head_of(&events[2]), &more[3..]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (head, all) = pull_all(&mut c, "order-1");
    assert_eq!(all, more);
    assert_eq!(head, head_of(&more[4]));
    assert_eq!(verify_events(&m, "order-1", &all).unwrap().events, 5);

    // An empty append with the zero head creates an empty stream.
    let r = append(&mut c, "empty", &request(&m, Head::zero(), &[]));
    assert_eq!(r.status, 200, "{}", r.text());
    let page: EventPage = c.get("/v2/streams/empty/events").unwrap().json().unwrap();
    assert_eq!((page.head, page.events.len()), (Head::zero(), 0));
}

fn pages_default_to_500_and_are_capped_at_1000(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let events = chain(&m, "big", &ticks(1203));
    // Two pushes: one may carry at most 1000 events.
    let r = append(&mut c, "big", &request(&m, Head::zero(), &events[..1000]));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = append(
        &mut c,
        "big",
        &request(&m, head_of(&events[999]), &events[1000..]),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let page: EventPage = c.get("/v2/streams/big/events").unwrap().json().unwrap();
    assert_eq!((page.events.len(), page.more), (500, true));
    let page: EventPage = c
        .get("/v2/streams/big/events?limit=100000")
        .unwrap()
        .json()
        .unwrap();
    assert_eq!((page.events.len(), page.more), (1000, true));
    assert_eq!(page.events[999].seq, 1000);
    let (head, all) = pull_all(&mut c, "big");
    assert_eq!(all.len(), 1203);
    assert_eq!(head, head_of(&events[1202]));

    for bad in ["limit=0", "after=-1", "after=x", "limit=1e3"] {
        let r = c.get(&format!("/v2/streams/big/events?{bad}")).unwrap();
        assert_eq!(
            (r.status, error(&r).code.as_str()),
            (400, "BAD_REQUEST"),
            "{bad}"
        );
    }
    let r = c.get("/v2/streams/nope/events").unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (404, "STREAM_NOT_FOUND")
    );
}

fn resending_is_idempotent(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let events = chain(&m, "s", &spends(4));
    let req = request(&m, Head::zero(), &events[..3]);
    assert_eq!(append(&mut c, "s", &req).status, 200);

    // The same batch again (an acknowledgement lost on the way back).
    let r = append(&mut c, "s", &req);
    assert_eq!(r.status, 200, "{}", r.text());
    let ok: AppendOk = r.json().unwrap();
    assert_eq!((ok.stored, ok.duplicates), (0, 3));
    assert_eq!(ok.head, head_of(&events[2]));

    // Overlapping: two known events, then a new one.
    let r = append(
        &mut c,
        "s",
        &request(&m, head_of(&events[0]), &events[1..4]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let ok: AppendOk = r.json().unwrap();
    assert_eq!((ok.stored, ok.duplicates), (1, 2));
    assert_eq!(ok.head, head_of(&events[3]));
    let (_, all) = pull_all(&mut c, "s");
    assert_eq!(all, events);
}

fn a_lost_race_gets_409_with_the_current_head(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let mine = chain(&m, "s", &spends(2));
    let theirs = chain(
        &m,
        "s",
        &[Action::new("spend").actor("bob"), Action::new("tick")],
    );
    assert_eq!(
        append(&mut c, "s", &request(&m, Head::zero(), &mine)).status,
        200
    );

    // Another device built on the empty stream: its seq 1 differs.
    let r = append(&mut c, "s", &request(&m, Head::zero(), &theirs));
    let body = error(&r);
    assert_eq!((r.status, body.code.as_str()), (409, "HEAD_MISMATCH"));
    assert_eq!(body.head, Some(head_of(&mine[1])));

    // A stale expected head with a seq past the head.
    let next = chain(&m, "s", &spends(3));
    let r = append(&mut c, "s", &request(&m, head_of(&mine[0]), &next[2..]));
    let body = error(&r);
    assert_eq!((r.status, body.code.as_str()), (409, "HEAD_MISMATCH"));
    assert_eq!(body.head, Some(head_of(&mine[1])));

    // An expected head on a stream the server does not have.
    let r = append(&mut c, "other", &request(&m, head_of(&mine[0]), &mine[1..]));
    let body = error(&r);
    assert_eq!((r.status, body.code.as_str()), (409, "HEAD_MISMATCH"));
    assert_eq!(body.head, Some(Head::zero()));

    let (head, all) = pull_all(&mut c, "s");
    assert_eq!((head, all), (head_of(&mine[1]), mine));
}

/// Sends `events` (a valid prefix of 1 stored event first) and expects the
/// batch refused at `seq` with `reason`, nothing of it stored.
fn assert_refused(
    c: &mut common::client::Client,
    stream: &str,
    stored: &[Event],
    batch: &[Event],
    seq: u64,
    reason: &str,
) -> serde_json::Value {
    let m = model();
    let expected = stored.last().map_or(Head::zero(), head_of);
    let r = append(c, stream, &request(&m, expected.clone(), batch));
    let body = error(&r);
    assert_eq!(
        (r.status, body.code.as_str()),
        (422, "INVALID_EVENT"),
        "{}",
        r.text()
    );
    assert_eq!(body.seq, Some(seq), "{}", r.text());
    let why = body.reason.unwrap();
    assert_eq!(why["code"], reason, "{why}");
    let r = c.get(&format!("/v2/streams/{stream}/events")).unwrap();
    if stored.is_empty() {
        assert_eq!(r.status, 404, "a refused first batch creates no stream");
    } else {
        let page: EventPage = r.json().unwrap();
        assert_eq!(page.events, stored, "nothing of a refused batch is stored");
        assert_eq!(page.head, expected);
    }
    why
}

fn invalid_events_are_refused_and_nothing_is_stored(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let good = chain(&m, "s", &spends(3));

    // Tampered: the payload changed, the hash not.
    let mut tampered = good[1].clone();
    tampered.payload = "{\"n\":999}".into();
    assert_refused(
        &mut c,
        "s",
        &[],
        &[good[0].clone(), tampered],
        2,
        "HASH_MISMATCH",
    );

    // A wrong (well-formed) hash.
    let mut wrong = good[0].clone();
    wrong.hash = "0123456789abcdef".repeat(4);
    assert_refused(&mut c, "s", &[], &[wrong], 1, "HASH_MISMATCH");

    // A malformed hash.
    let mut malformed = good[0].clone();
    malformed.hash = "xyz".into();
    assert_refused(&mut c, "s", &[], &[malformed], 1, "INVALID_EVENT");

    // Store seq 1, then refuse batches on top of it.
    assert_eq!(
        append(&mut c, "s", &request(&m, Head::zero(), &good[..1])).status,
        200
    );
    let stored = &good[..1];

    // Broken link inside a batch: prev changed, hash recomputed so only the
    // link is wrong.
    let mut e = good[2].clone();
    e.prev = good[0].hash.clone();
    assert_refused(
        &mut c,
        "s",
        stored,
        &[good[1].clone(), rehash(e)],
        3,
        "BROKEN_LINK",
    );
    // At the first new event a wrong link means the client builds on another
    // head than ours: 409 with the head, nothing stored.
    let mut e = good[1].clone();
    e.prev = good[0].prev.clone();
    let r = append(&mut c, "s", &request(&m, head_of(&good[0]), &[rehash(e)]));
    let body = error(&r);
    assert_eq!((r.status, body.code.as_str()), (409, "HEAD_MISMATCH"));
    assert_eq!(body.head, Some(head_of(&good[0])));

    // The net does not allow it: spend 20 with 9 cash left.
    let mut e = good[1].clone();
    e.multiple = 20;
    let why = assert_refused(&mut c, "s", stored, &[rehash(e)], 2, "ACTION_REJECTED");
    assert_eq!(why["reason"]["code"], "NOT_ENABLED");

    // A role the actor does not hold.
    let mut e = good[1].clone();
    e.action = "audit".into();
    let why = assert_refused(&mut c, "s", stored, &[rehash(e)], 2, "ACTION_REJECTED");
    assert_ne!(why["reason"]["code"], "NOT_ENABLED");

    // An action the net does not have.
    let mut e = good[1].clone();
    e.action = "steal".into();
    assert_refused(&mut c, "s", stored, &[rehash(e)], 2, "ACTION_REJECTED");

    // The changed counts are not the ones the firing reaches (re-signed:
    // only the content lies).
    let mut e = good[1].clone();
    e.delta = vec![("cash".into(), 9), ("spent".into(), 9)];
    assert_refused(
        &mut c,
        "s",
        stored,
        &[resign(e, &device_key())],
        2,
        "STATE_MISMATCH",
    );

    // Another stream's event, another model, a seq gap.
    let mut e = good[1].clone();
    e.stream = "t".into();
    assert_refused(&mut c, "s", stored, &[rehash(e)], 2, "WRONG_STREAM");
    let mut e = good[1].clone();
    e.model = "ab".repeat(32);
    assert_refused(&mut c, "s", stored, &[rehash(e)], 2, "WRONG_MODEL");
    // A seq gap inside the batch (seq 2, then 4).
    let mut e = good[2].clone();
    e.seq = 4;
    assert_refused(
        &mut c,
        "s",
        stored,
        &[good[1].clone(), rehash(e)],
        3,
        "SEQ_GAP",
    );
    // At the first new event: 409.
    let r = append(&mut c, "s", &request(&m, head_of(&good[0]), &good[2..]));
    assert_eq!((r.status, error(&r).code.as_str()), (409, "HEAD_MISMATCH"));

    // A good event then a bad one: the whole batch is refused.
    let mut bad = good[2].clone();
    bad.ts += 1;
    assert_refused(
        &mut c,
        "s",
        stored,
        &[good[1].clone(), bad],
        3,
        "HASH_MISMATCH",
    );

    // And the good continuation is still accepted afterwards.
    let r = append(&mut c, "s", &request(&m, head_of(&good[0]), &good[1..]));
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, all) = pull_all(&mut c, "s");
    assert_eq!(all, good);
}

/// Signatures and the marking commitment, checked by the server with the
/// core's `Verifier` before anything is stored: a right hash with another
/// key's signature, a signature replayed from another event, a missing or
/// empty one, and a lying `root` (rehashed and re-signed: only the
/// commitment lies) are each refused with the seq, nothing stored.
fn forged_signatures_and_lying_commitments_are_refused(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let good = chain(&m, "s", &spends(4));
    let device = hex::encode(device_key().public_key());
    assert!(good.iter().all(|e| e.signer == device));
    assert_eq!(
        append(&mut c, "s", &request(&m, Head::zero(), &good[..1])).status,
        200
    );
    let stored = &good[..1];

    // The right hash, signed by another key (the event still names the
    // device as its signer).
    let mut e = good[1].clone();
    e.sig = sign_hex(&other_key(), &e.hash);
    let why = assert_refused(&mut c, "s", stored, &[e], 2, "BAD_SIGNATURE");
    assert_eq!(
        (why["seq"].as_u64(), why["signer"].as_str()),
        (Some(2), Some(device.as_str()))
    );

    // The forger names itself as the signer but keeps the device's
    // signature: the hash changes with `signer`, the signature fits no more.
    let mut e = good[1].clone();
    e.signer = hex::encode(other_key().public_key());
    assert_refused(&mut c, "s", stored, &[rehash(e)], 2, "BAD_SIGNATURE");

    // A signature replayed from another event of the same signer: at the
    // first new event, and after a good one in the same batch.
    let mut e = good[1].clone();
    e.sig = good[0].sig.clone();
    assert_refused(&mut c, "s", stored, &[e], 2, "BAD_SIGNATURE");
    let mut e = good[2].clone();
    e.sig = good[1].sig.clone();
    assert_refused(
        &mut c,
        "s",
        stored,
        &[good[1].clone(), e],
        3,
        "BAD_SIGNATURE",
    );

    // A bad signature followed by good events: the batch check still names
    // the first bad seq (signatures are verified in a batch at the end).
    let mut e = good[1].clone();
    e.sig = sign_hex(&other_key(), &e.hash);
    assert_refused(
        &mut c,
        "s",
        stored,
        &[e, good[2].clone(), good[3].clone()],
        2,
        "BAD_SIGNATURE",
    );

    // No signature: an all-zero one does not verify; an empty one (or a
    // missing field) is no signature at all.
    let mut e = good[1].clone();
    e.sig = "0".repeat(128);
    assert_refused(&mut c, "s", stored, &[e], 2, "BAD_SIGNATURE");
    let mut e = good[1].clone();
    e.sig = String::new();
    let why = assert_refused(&mut c, "s", stored, &[e], 2, "BAD_SIGNATURE");
    assert_eq!(why["message"], "the event is not signed", "{why}");

    // A lying marking commitment, correctly hashed and signed.
    let mut e = good[1].clone();
    e.root = good[2].root.clone();
    let why = assert_refused(
        &mut c,
        "s",
        stored,
        &[resign(e, &device_key())],
        2,
        "COMMITMENT_MISMATCH",
    );
    assert_eq!(why["stored"], good[2].root.as_str());
    assert_eq!(why["computed"], good[1].root.as_str());
    // ... after a good event of the same batch.
    let mut e = good[2].clone();
    e.root = "ab".repeat(32);
    assert_refused(
        &mut c,
        "s",
        stored,
        &[good[1].clone(), resign(e, &device_key())],
        3,
        "COMMITMENT_MISMATCH",
    );

    // Another device's correctly signed event is an event like any other:
    // the server checks signatures, not who may write (yet).
    let theirs = resign(good[1].clone(), &other_key());
    let r = append(
        &mut c,
        "s",
        &request(&m, head_of(&good[0]), std::slice::from_ref(&theirs)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (head, all) = pull_all(&mut c, "s");
    assert_eq!(head, head_of(&theirs));
    assert_eq!(all, [good[0].clone(), theirs]);
    assert_eq!(verify_events(&m, "s", &all).unwrap().events, 2);
}

const SHOP: &str = r#"{"places":[{"id":"stock","initial":3},{"id":"sold"}],
  "transitions":[{"id":"sell","roles":["clerk"]}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"}]}"#;

/// Issue 12's silent loss, through the real server: two devices share a
/// stream; offline, each records the same `sell` (same actor, payload and
/// ts, on the same head). Both are kept: one device's push wins, the
/// other's gets 409, pulls, rebases its sale and pushes it. Also with the
/// defaults (actor "", payload null) in the same millisecond.
fn the_same_offline_action_on_two_devices_is_kept_twice(b: &Backend) {
    let server = b.start(&[]);
    let shop = import_json(SHOP).unwrap().0;
    let sold = shop.places().iter().position(|p| p.id == "sold").unwrap();
    let sell = |actor: &str| {
        Action::new("sell")
            .actor(actor)
            .roles(["clerk"])
            .payload(format!(r#"{{"by":"{actor}"}}"#))
    };
    let options = SyncOptions {
        now: 42,
        ..SyncOptions::default()
    };
    for (i, action) in [sell("ann"), Action::new("sell").roles(["clerk"])]
        .iter()
        .enumerate()
    {
        let stream = format!("till-{i}");
        block_on(async {
            let (ta, tb) = (
                transport::HttpTransport::new(server.addr),
                transport::HttpTransport::new(server.addr),
            );
            let run = |ledger, t| sync_stream(ledger, t, &stream, &options, &|_| {});
            let a = Ledger::memory();
            let id = a.put_model(&shop).await.unwrap();
            a.create_stream(&stream, &id).await.unwrap();
            a.fire(&stream, &sell("first"), 1).await.unwrap();
            let b = Ledger::memory();
            // b's role, granted by the owner (docs/chain-format.md).
            let grant = format!(r#"{{"key":"{}","role":"clerk"}}"#, b.device_key());
            a.fire(&stream, &Action::new("$grant").payload(grant), 1)
                .await
                .unwrap();
            run(&a, &ta).await.unwrap();
            run(&b, &tb).await.unwrap();
            assert_eq!(b.stream(&stream).await.unwrap().seq, 2);

            // Offline, the same action on the same head at the same ms.
            let ea = a.fire(&stream, action, 1_700_000_000_000).await.unwrap();
            let eb = b.fire(&stream, action, 1_700_000_000_000).await.unwrap();
            assert_ne!(ea.hash, eb.hash, "two firings are two events");
            let r = run(&a, &ta).await.unwrap();
            assert_eq!((r.pushed, r.rebased), (1, 0));
            let r = run(&b, &tb).await.unwrap();
            assert_eq!(
                (r.rebased, r.conflicts, r.duplicates, r.pushed),
                (1, 0, 0, 1),
                "{r:?}"
            );
            run(&a, &ta).await.unwrap();
            for ledger in [&a, &b] {
                let head = ledger.stream(&stream).await.unwrap();
                assert_eq!(head.seq, 4);
                assert_eq!(head.state[sold], 3, "sold 3 of 3");
                assert!(ledger.store().conflicts(&stream).await.unwrap().is_empty());
            }
            let chain_a = a.all_events(&stream).await.unwrap();
            assert_eq!(chain_a, b.all_events(&stream).await.unwrap());
            let signers: Vec<&str> = chain_a.iter().map(|e| e.signer.as_str()).collect();
            let (ka, kb) = (a.device_key(), b.device_key());
            assert_eq!(
                signers,
                [ka.as_str(), ka.as_str(), ka.as_str(), kb.as_str()]
            );
            // b's rebased sale keeps its nonce, payload and ts.
            assert_eq!(
                (chain_a[3].nonce.as_str(), chain_a[3].ts),
                (eb.nonce.as_str(), eb.ts)
            );
            assert_eq!(chain_a[3].payload, eb.payload);
        });
        let (head, events) = pull_all(&mut server.client(), &stream);
        assert_eq!(head.seq, 4);
        assert_eq!(
            verify_events(&shop, &stream, &events).unwrap().marking[sold],
            3
        );
    }
}

/// A database the previous (v1) server wrote: the new server starts on it,
/// moves its v1 tables aside (kept), says so in one log line, serves none
/// of the v1 events, and takes the upgraded chain under the same stream id.
fn a_v1_database_is_moved_aside_on_start(b: &Backend) {
    write_v1_database(b);
    let server = b.start(&[]);
    let mut c = server.client();
    let list: StreamList = c.get("/v2/streams").unwrap().json().unwrap();
    assert!(list.streams.is_empty(), "v1 streams are not served as v2");
    let r = c.get(&format!("/v2/streams/{V1_STREAM}/events")).unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (404, "STREAM_NOT_FOUND")
    );
    let log = server.log_text();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("v1 stream")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("archived 2 v1 stream(s) (2 event(s))"),
        "{log}"
    );
    assert!(lines[0].contains("re-push"), "{log}");

    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 200, "the model was kept");
    let events = chain(&m, V1_STREAM, &spends(2));
    let r = append(&mut c, V1_STREAM, &request(&m, Head::zero(), &events));
    assert_eq!(r.status, 200, "{}", r.text());
    drop(c);
    assert!(server.terminate().success());

    // Started again: nothing to move, no line, the data is there.
    let server = b.start(&[]);
    assert!(
        !server.log_text().contains("v1 stream"),
        "{}",
        server.log_text()
    );
    assert_eq!(pull_all(&mut server.client(), V1_STREAM).1, events);
    assert_eq!(
        (count_rows(b, "streams_v1"), count_rows(b, "events_v1")),
        (2, 2)
    );
}

/// Protocol v1's paths answer `410 Gone` with a JSON error naming `/v2/`,
/// whatever the method, rather than a 404.
#[test]
fn v1_paths_are_gone_with_a_json_error_naming_v2() {
    let dir = TempDir::new("gone");
    let server = Server::start(&dir.path("db.sqlite"), &[]);
    let mut c = server.client();
    for (method, target, body) in [
        ("GET", "/v1/streams", None),
        ("GET", "/v1/streams/s/events?after=0", None),
        ("POST", "/v1/streams/s/events", Some(&b"{}"[..])),
        ("PUT", "/v1/models/abc", Some(b"{}")),
        ("GET", "/v1/streams/s/live", None),
        ("GET", "/v1", None),
        ("DELETE", "/v1/anything/else", None),
    ] {
        let r = c.request(method, target, &[], body).unwrap();
        let e = error(&r);
        assert_eq!(
            (r.status, e.code.as_str()),
            (410, "PROTOCOL_VERSION"),
            "{method} {target}"
        );
        assert!(e.message.contains("/v2/"), "{}", e.message);
    }
    let r = c.get("/v2/nothing").unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (404, "NOT_FOUND"));
    assert_eq!(c.get("/v2/streams").unwrap().status, 200);
}

fn malformed_requests_get_clear_json_errors(b: &Backend) {
    let server = b.start(&["--max-body-bytes", "4096"]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let events = chain(&m, "s", &spends(1));

    for body in [
        &b"{not json"[..],
        b"",
        b"[]",
        b"{\"model\":\"m\",\"expected\":{\"seq\":0,\"hash\":\"0\"}}",
        b"{\"model\":\"m\",\"expected\":{\"seq\":-1,\"hash\":\"0\"},\"events\":[]}",
        b"{\"model\":\"m\",\"expected\":{\"seq\":0,\"hash\":\"0\"},\"events\":[],\"x\":1}",
    ] {
        let r = c
            .request("POST", "/v2/streams/s/events", &[], Some(body))
            .unwrap();
        assert_eq!(
            (r.status, error(&r).code.as_str()),
            (400, "MALFORMED_JSON"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }

    // An event with an unknown field or a missing one.
    let mut v = serde_json::to_value(request(&m, Head::zero(), &events)).unwrap();
    v["events"][0]["extra"] = 1.into();
    let r = c.send_json("POST", "/v2/streams/s/events", &v).unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (400, "MALFORMED_JSON"));

    // Above --max-body-bytes, with and without a Content-Length.
    let big = chain(
        &m,
        "s",
        &[Action::new("tick").payload(format!("\"{}\"", "x".repeat(8000)))],
    );
    let r = append(&mut c, "s", &request(&m, Head::zero(), &big));
    assert_eq!((r.status, error(&r).code.as_str()), (413, "TOO_LARGE"));
    let r = chunked_post(&server, "/v2/streams/s/events", &vec![b' '; 10_000]);
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    assert!(r.contains("TOO_LARGE"), "{r}");

    // Unknown model.
    let mut req = request(&m, Head::zero(), &events);
    req.model = "cd".repeat(32);
    let r = append(&mut c, "s", &req);
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (404, "MODEL_NOT_FOUND")
    );

    // Unknown routes and methods, an over-long id.
    let r = c.get("/v2/nothing/here").unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (404, "NOT_FOUND"));
    let r = c.request("DELETE", "/v2/streams", &[], None).unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (405, "METHOD_NOT_ALLOWED")
    );
    let r = c.get("/").unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (404, "NOT_FOUND"));
    let long = "s".repeat(2000);
    let r = c.get(&format!("/v2/streams/{long}/events")).unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (400, "BAD_REQUEST"));

    // A NUL character (PostgreSQL text cannot hold one): in an id it is
    // refused or not found, in an event field it is stored or refused with
    // nothing stored; never a 500.
    let r = c.get("/v2/streams/a%00b/events").unwrap();
    assert!(matches!(r.status, 400 | 404), "{}", r.text());
    error(&r);
    let mut e = events[0].clone();
    e.actor = "a\u{0}b".into();
    let r = append(
        &mut c,
        "s",
        &request(&m, Head::zero(), &[resign(e, &device_key())]),
    );
    let nul_stored = match r.status {
        200 => true,
        400 => {
            assert_eq!(error(&r).code, "BAD_REQUEST");
            false
        }
        _ => panic!("{} {}", r.status, r.text()),
    };

    // Still serving, nothing else stored.
    let list: StreamList = c.get("/v2/streams").unwrap().json().unwrap();
    assert_eq!(list.streams.len(), usize::from(nul_stored));
}

/// A POST with a chunked body (no Content-Length), answered as raw text.
fn chunked_post(server: &Server, target: &str, body: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for part in body.chunks(1000) {
        req.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before reading it all.
    let _ = s.write_all(&req);
    let mut out = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn serves_the_app_and_refuses_path_traversal() {
    let dir = TempDir::new("static");
    let www = dir.path("www");
    std::fs::create_dir_all(www.join("assets")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>petrichain app</h1>").unwrap();
    std::fs::write(www.join("assets/app.js"), "console.log(1)").unwrap();
    std::fs::write(www.join("assets/app.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.path("secret.txt"), "TOP SECRET").unwrap();
    let server = Server::start(&dir.path("db.sqlite"), &["--static", www.to_str().unwrap()]);
    let mut c = server.client();

    let r = c.get("/").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<h1>petrichain app</h1>");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let r = c.get("/assets/app.js").unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "console.log(1)"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // The wasm as `WebAssembly.instantiateStreaming` needs it.
    let r = c.get("/assets/app.wasm").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/wasm"));
    // Revalidation of a file kept by the browser: 304, still cacheable.
    let modified = c
        .get("/")
        .unwrap()
        .header("last-modified")
        .map(str::to_string);
    let modified = modified.expect("index.html has a Last-Modified");
    let r = c
        .request(
            "GET",
            "/",
            &[("if-modified-since", modified.as_str())],
            None,
        )
        .unwrap();
    assert_eq!(r.status, 304);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let r = c.get("/assets/missing.js").unwrap();
    assert_eq!((r.status, error(&r).code.as_str()), (404, "NOT_FOUND"));
    // The API is still the API; the files are read only.
    assert_eq!(c.get("/v2/streams").unwrap().status, 200);
    let r = c.request("POST", "/index.html", &[], Some(b"{}")).unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (405, "METHOD_NOT_ALLOWED")
    );

    for target in [
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%5c..%5csecret.txt",
        "/../secret.txt",
        "/%2fetc%2fpasswd",
    ] {
        let mut fresh = server.client();
        let r = fresh.get(target).unwrap();
        assert_ne!(r.status, 200, "{target}");
        assert!(!r.text().contains("SECRET"), "{target}");
        assert!(!r.text().contains("root:"), "{target}");
    }
}

#[test]
fn html_pages_preload_the_one_wasm_of_assets() {
    let dir = TempDir::new("preload");
    let www = dir.path("www");
    std::fs::create_dir_all(www.join("assets")).unwrap();
    std::fs::create_dir_all(www.join("docs")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>app</h1>").unwrap();
    std::fs::write(www.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    std::fs::write(www.join("assets/app-B8Nd.js"), "console.log(1)").unwrap();
    std::fs::write(
        www.join("assets/petrichain_bg-CnTY.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let server = Server::start(&dir.path("db.sqlite"), &["--static", www.to_str().unwrap()]);
    let mut c = server.client();
    let link = "</assets/petrichain_bg-CnTY.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin";
    for page in ["/", "/index.html", "/docs/"] {
        let r = c.get(page).unwrap();
        assert_eq!((page, r.status), (page, 200));
        assert_eq!(r.header("link"), Some(link), "{page}");
    }
    // Only HTML pages carry it.
    for other in [
        "/assets/app-B8Nd.js",
        "/assets/petrichain_bg-CnTY.wasm",
        "/v2/streams",
    ] {
        assert_eq!(c.get(other).unwrap().header("link"), None, "{other}");
    }
    // Two modules: which one a page loads is not known, so no header; the
    // directory is read at each page, so a rebuilt app is seen at once.
    std::fs::write(www.join("assets/other.wasm"), b"\0asm\x01\0\0\0").unwrap();
    assert_eq!(c.get("/").unwrap().header("link"), None);
    std::fs::remove_file(www.join("assets/other.wasm")).unwrap();
    assert_eq!(c.get("/").unwrap().header("link"), Some(link));
    // A name that would need escaping in a header is left alone.
    std::fs::remove_file(www.join("assets/petrichain_bg-CnTY.wasm")).unwrap();
    std::fs::write(www.join("assets/odd name;.wasm"), b"\0asm\x01\0\0\0").unwrap();
    assert_eq!(c.get("/").unwrap().header("link"), None);
    // No assets/ directory at all: no header, the page as usual.
    std::fs::remove_dir_all(www.join("assets")).unwrap();
    let r = c.get("/").unwrap();
    assert_eq!((r.status, r.header("link")), (200, None));
}

#[test]
fn cors_is_configurable() {
    let dir = TempDir::new("cors");
    let server = Server::start(
        &dir.path("db.sqlite"),
        &["--cors-origin", "https://app.example"],
    );
    let mut c = server.client();
    let r = c
        .request(
            "OPTIONS",
            "/v2/streams/s/events",
            &[
                ("Origin", "https://app.example"),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
            ],
            None,
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(r
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    let r = c
        .request(
            "GET",
            "/v2/streams",
            &[("Origin", "https://evil.example")],
            None,
        )
        .unwrap();
    assert_eq!(r.header("access-control-allow-origin"), None);

    // Without --cors-origin: no CORS headers at all.
    let plain = Server::start(&dir.path("db2.sqlite"), &[]);
    let r = plain
        .client()
        .request(
            "GET",
            "/v2/streams",
            &[("Origin", "https://app.example")],
            None,
        )
        .unwrap();
    assert_eq!(r.header("access-control-allow-origin"), None);
}

fn live_updates_arrive_as_server_sent_events(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    put_model(&mut c, &m);
    let events = chain(&m, "s", &spends(3));
    append(&mut c, "s", &request(&m, Head::zero(), &events[..1]));

    let r = c.get("/v2/streams/nope/live").unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (404, "STREAM_NOT_FOUND")
    );

    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"GET /v2/streams/s/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let headers = common::client::read_headers(&mut reader).unwrap();
    assert!(headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream")));

    // Appends to another stream are not sent; this stream's are, in order.
    let other = chain(&m, "t", &spends(1));
    append(&mut c, "t", &request(&m, Head::zero(), &other));
    append(
        &mut c,
        "s",
        &request(&m, head_of(&events[0]), &events[1..2]),
    );
    append(&mut c, "s", &request(&m, head_of(&events[1]), &events[2..]));
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let chunk = common::client::read_chunk(&mut reader)
            .unwrap()
            .expect("stream still open");
        let text = String::from_utf8(chunk).unwrap();
        if let Some(data) = text
            .lines()
            .find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        {
            assert!(text.contains("event: append") || text.contains("event:append"));
            let v: serde_json::Value = serde_json::from_str(data).unwrap();
            seen.push(v);
        }
    }
    assert_eq!(seen[0]["stream"], "s");
    assert_eq!(seen[0]["head"]["seq"], 2);
    assert_eq!(seen[1]["head"]["hash"], events[2].hash.as_str());

    // Graceful shutdown ends the live stream instead of waiting for it.
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

fn restart_keeps_everything(b: &Backend) {
    let m = model();
    let events = chain(&m, "s", &spends(4));

    let server = b.start(&[]);
    if !b.is_postgres() {
        assert!(
            std::path::Path::new(&b.db).exists(),
            "database and its directory created on first run"
        );
    }
    let mut c = server.client();
    put_model(&mut c, &m);
    let r = append(&mut c, "s", &request(&m, Head::zero(), &events[..2]));
    assert_eq!(r.status, 200);
    drop(c);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");

    let server = b.start(&[]);
    let mut c = server.client();
    let (head, all) = pull_all(&mut c, "s");
    assert_eq!((head, all), (head_of(&events[1]), events[..2].to_vec()));
    assert_eq!(
        c.get(&format!("/v2/models/{}", m.id())).unwrap().status,
        200
    );
    let r = append(&mut c, "s", &request(&m, head_of(&events[1]), &events[2..]));
    assert_eq!(r.status, 200, "{}", r.text());

    // Killed without warning this time: acknowledged events survive.
    drop(c);
    drop(server);
    let server = b.start(&[]);
    let (_, all) = pull_all(&mut server.client(), "s");
    assert_eq!(all, events);
    assert!(
        server.log_text().contains("GET /v2/streams/s/events"),
        "one log line per request"
    );
}

/// Pushes `count` acknowledged `tick`s to `stream`, building each on the
/// head it knows and, on 409, pulling what it missed and retrying. Returns
/// the hashes the server acknowledged with 200.
fn push_ticks(
    addr: std::net::SocketAddr,
    client_id: usize,
    stream: &str,
    count: usize,
) -> Vec<String> {
    use petrichain::engine::Marking;
    let m = model();
    let key = petrichain::chain::SoftwareKey::from_seed(&[u8::try_from(client_id).unwrap(); 32]);
    let mut c = common::client::Client::connect(addr).unwrap();
    let (mut seq, mut hash) = (0u64, Head::zero().hash);
    let mut state: Marking = m.initial_marking();
    let mut acknowledged = Vec::new();
    let mut attempts = 0;
    while acknowledged.len() < count {
        attempts += 1;
        assert!(attempts < 20_000, "client {client_id}: too many retries");
        let mut next = state.clone();
        let e = next_event(
            &m,
            stream,
            &key,
            &Head {
                seq,
                hash: hash.clone(),
            },
            &mut next,
            "tick",
            &format!("client-{client_id}"),
            &format!("{{\"client\":{client_id},\"n\":{}}}", acknowledged.len()),
            attempts as u64,
        );
        let expected = Head {
            seq,
            hash: hash.clone(),
        };
        let r = append(
            &mut c,
            stream,
            &request(&m, expected, std::slice::from_ref(&e)),
        );
        match r.status {
            200 => {
                let ok: AppendOk = r.json().unwrap();
                assert_eq!((ok.stored, ok.head.clone()), (1, head_of(&e)));
                acknowledged.push(e.hash.clone());
                (seq, hash, state) = (e.seq, e.hash, next);
            }
            409 => {
                let server_head = error(&r).head.unwrap();
                assert!(server_head.seq > seq, "409 without progress");
                // Catch up: pull what others appended, in pages.
                loop {
                    let page: EventPage = c
                        .get(&format!(
                            "/v2/streams/{stream}/events?after={seq}&limit=1000"
                        ))
                        .unwrap()
                        .json()
                        .unwrap();
                    for e in &page.events {
                        petrichain::store::apply_delta(&m, &mut state, e);
                    }
                    if let Some(last) = page.events.last() {
                        (seq, hash) = (last.seq, last.hash.clone());
                    }
                    if !page.more {
                        break;
                    }
                }
            }
            other => panic!("client {client_id}: unexpected {other}: {}", r.text()),
        }
    }
    acknowledged
}

fn bounded_load_two_processes_no_fork_no_lost_acknowledged_event(backend: &Backend) {
    const CLIENTS: usize = 16;
    const APPENDS: usize = 12;
    // Two server processes on one database, started at the same time on a
    // database without the schema yet (SQLite: a file that does not exist
    // yet): the migration and the head check inside the append transaction
    // (BEGIN IMMEDIATE / SELECT ... FOR UPDATE) must hold across processes.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| backend.start(&[]));
        let b = s.spawn(|| backend.start(&[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    let m = model();
    assert_eq!(put_model(&mut a.client(), &m).status, 201);

    // Half the clients fight over one stream (through both servers), the
    // other half each have their own stream.
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addr = if i % 2 == 0 { a.addr } else { b.addr };
            let stream = if i < CLIENTS / 2 {
                "shared".to_string()
            } else {
                format!("own-{i}")
            };
            std::thread::spawn(move || (stream.clone(), push_ticks(addr, i, &stream, APPENDS)))
        })
        .collect();
    let results: Vec<(String, Vec<String>)> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "load test too slow"
    );

    let mut c = a.client();
    let list: StreamList = c.get("/v2/streams").unwrap().json().unwrap();
    assert_eq!(list.streams.len(), 1 + CLIENTS / 2);
    for info in &list.streams {
        let (head, events) = pull_all(&mut c, &info.id);
        // One linear chain that replays through the net: no fork.
        let verified = verify_events(&m, &info.id, &events).unwrap();
        assert_eq!(head.hash, verified.head);
        let writers = if info.id == "shared" { CLIENTS / 2 } else { 1 };
        assert_eq!(
            events.len(),
            writers * APPENDS,
            "{}: no extra, none lost",
            info.id
        );
        let stored: std::collections::HashSet<&str> =
            events.iter().map(|e| e.hash.as_str()).collect();
        for (stream, acked) in &results {
            if stream == &info.id {
                for h in acked {
                    assert!(
                        stored.contains(h.as_str()),
                        "{stream}: acknowledged {h} lost"
                    );
                }
            }
        }
    }
    // Both processes see the same data.
    let (_, via_b) = pull_all(&mut b.client(), "shared");
    assert_eq!(via_b, pull_all(&mut c, "shared").1);
}

#[test]
fn command_line_help_and_bad_options() {
    let bin = env!("CARGO_BIN_EXE_petrichain-server");
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--addr",
        "--db",
        "--static",
        "--cors-origin",
        "--max-body-bytes",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
    let out = std::process::Command::new(bin)
        .args(["--addr", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--addr"));

    // A --static directory that does not exist: refused at start, clearly.
    let dir = TempDir::new("cli");
    let out = std::process::Command::new(bin)
        .args(["--addr", "127.0.0.1:0", "--db"])
        .arg(dir.path("db.sqlite"))
        .args(["--static"])
        .arg(dir.path("no-such-dir"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
}

// The behavioural tests, once on a SQLite file and once on a fresh
// PostgreSQL database: `sqlite::NAME` and `postgres::NAME`.
on_both_backends!(
    models_put_get_and_refusals,
    append_pull_and_list_streams,
    pages_default_to_500_and_are_capped_at_1000,
    resending_is_idempotent,
    a_lost_race_gets_409_with_the_current_head,
    invalid_events_are_refused_and_nothing_is_stored,
    forged_signatures_and_lying_commitments_are_refused,
    the_same_offline_action_on_two_devices_is_kept_twice,
    a_v1_database_is_moved_aside_on_start,
    malformed_requests_get_clear_json_errors,
    live_updates_arrive_as_server_sent_events,
    restart_keeps_everything,
    bounded_load_two_processes_no_fork_no_lost_acknowledged_event,
    keyed_round_trip_and_forged_key_count,
    two_devices_transferring_from_different_accounts_never_conflict,
    two_spends_from_one_account_that_fit_both_land,
    two_spends_from_one_account_that_exceed_it_conflict,
);

/// The database drops every connection (a restart, a failover, an admin):
/// the server notices on the next use, opens new connections and answers as
/// before, without a 500 and without losing or doubling an append.
#[test]
fn postgres_connections_dropped_by_the_database_are_replaced() {
    let Some(b) = Backend::postgres("reconnect") else {
        return;
    };
    let pg = b.pg.as_ref().unwrap();
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let events = chain(&m, "s", &spends(4));
    let r = append(&mut c, "s", &request(&m, Head::zero(), &events[..2]));
    assert_eq!(r.status, 200, "{}", r.text());

    let kill = || {
        let killed: i64 = pg_query_one(
            &pg.url,
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
        )
        .get(0);
        assert!(killed >= 1, "the server holds connections");
    };
    kill();
    let r = append(
        &mut c,
        "s",
        &request(&m, head_of(&events[1]), &events[2..3]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    kill();
    let (head, all) = pull_all(&mut c, "s");
    assert_eq!((head, all), (head_of(&events[2]), events[..3].to_vec()));
    kill();
    let list: StreamList = c.get("/v2/streams").unwrap().json().unwrap();
    assert_eq!(list.streams.len(), 1);
    assert!(
        !server.log_text().contains(" 500 "),
        "{}",
        server.log_text()
    );
}
