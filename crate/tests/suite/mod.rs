//! The behavioural suite every store must pass: run against the memory store
//! natively (tests/store_memory.rs) and against IndexedDB in headless
//! Chromium (web/tests/web_store.rs, which includes this file by `#[path]`). Each check uses its own ledger name.
#![allow(dead_code)]

pub mod keys;
pub use keys::{a_pull_and_a_rebase_keep_the_key_records_in_step, key_records_follow_every_commit};
pub mod runs;
pub use runs::a_batch_is_one_signature_run_and_an_unsigned_head_is_refused;

use petrichain::chain::{Event, GENESIS_PREV};
use petrichain::formats::json::import_json;
use petrichain::store::{Action, ChainError, Ledger, Store};
use petrichain::Model;

/// A way to open ledgers by name and to reach under them (to tamper with
/// stored records as a user with devtools could).
#[allow(async_fn_in_trait)]
pub trait Backend {
    type S: Store;
    /// Opens (a new connection to) the ledger `name`.
    async fn open(&self, name: &str) -> Ledger<Self::S>;
    /// Edits the stored event (stream, seq) as JSON, bypassing every check.
    /// Returns false if the store cannot hold the edited record at all
    /// (typed in-memory records cannot hold a seq that is a string).
    async fn tamper(
        &self,
        name: &str,
        stream: &str,
        seq: u64,
        edit: &dyn Fn(&mut serde_json::Value),
    ) -> bool;
    /// Writes an event record directly, bypassing every check.
    async fn put_raw(&self, name: &str, event: &Event);
    /// Lets pending notifications (BroadcastChannel) arrive.
    async fn settle(&self);
}

pub const TS: u64 = 1_700_000_000_000;

/// stock(initial) -take-> taken, "restock" needs role "clerk"; "audit" is
/// inhibited while "taken" holds 3 or more.
pub fn shop(initial: u64) -> Model {
    let text = format!(
        r#"{{"name":"shop","places":[{{"id":"stock","initial":{initial}}},{{"id":"taken","capacity":1000}}],
        "transitions":[{{"id":"take"}},{{"id":"restock","roles":["clerk"]}},{{"id":"audit"}}],
        "arcs":[{{"source":"stock","target":"take"}},{{"source":"take","target":"taken"}},
                {{"source":"restock","target":"stock"}},
                {{"source":"taken","target":"audit","kind":"inhibitor","weight":3}}]}}"#
    );
    import_json(&text).unwrap().0
}

pub fn tictactoe() -> Model {
    import_json(include_str!(
        "../../../tests/fixtures/gopflow-tictactoe.jsonld"
    ))
    .unwrap()
    .0
}

async fn with_stream<S: Store>(ledger: &Ledger<S>, stream: &str, model: &Model) {
    let id = ledger.put_model(model).await.unwrap();
    ledger.create_stream(stream, &id).await.unwrap();
}

fn code<T: std::fmt::Debug>(r: Result<T, ChainError>) -> String {
    r.unwrap_err().code().to_string()
}

pub async fn fire_chains_events_and_moves_the_head<B: Backend>(b: &B) {
    let ledger = b.open("fire-chains").await;
    let model = shop(5);
    with_stream(&ledger, "s1", &model).await;
    let head = ledger.stream("s1").await.unwrap();
    assert_eq!((head.seq, head.hash.as_str()), (0, GENESIS_PREV));
    assert_eq!(head.state, vec![5, 0]);

    let e1 = ledger
        .fire(
            "s1",
            &Action::new("take").actor("ann").payload(r#"{"n":1}"#),
            TS,
        )
        .await
        .unwrap();
    assert_eq!((e1.seq, e1.prev.as_str()), (1, GENESIS_PREV));
    assert_eq!(e1.delta, vec![("stock".into(), 4), ("taken".into(), 1)]);
    assert_eq!(e1.signer, ledger.device_key());
    assert_eq!((e1.v, e1.nonce.len(), e1.sig.len()), (2, 32, 128));
    assert_eq!(e1.model, model.id());
    assert_eq!(e1.hash, petrichain::chain::hash::event_hash(&e1));
    let e2 = ledger
        .fire(
            "s1",
            &Action::new("take").multiple(2).roles(["z", "a", "z"]),
            TS + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (e2.seq, &e2.prev, &e2.roles),
        (2, &e1.hash, &vec!["a".to_string(), "z".to_string()])
    );
    assert_eq!(e2.payload, "null");
    assert_eq!(e2.delta, vec![("stock".into(), 2), ("taken".into(), 3)]);

    let head = ledger.stream("s1").await.unwrap();
    assert_eq!(
        (head.seq, &head.hash, &head.state),
        (2, &e2.hash, &vec![2, 3])
    );
    assert_eq!(
        ledger.events("s1", 0, None).await.unwrap(),
        vec![e1.clone(), e2.clone()]
    );
    assert_eq!(
        ledger.events("s1", 1, None).await.unwrap(),
        vec![e2.clone()]
    );
    assert_eq!(
        ledger.events("s1", 0, Some(1)).await.unwrap(),
        vec![e1.clone()]
    );
    assert_eq!(
        ledger.event_by_hash(&e2.hash).await.unwrap(),
        Some(e2.clone())
    );
    // audit is inhibited (taken = 3), restock needs the clerk role.
    assert_eq!(ledger.enabled("s1", &[]).await.unwrap(), vec!["take"]);
    assert_eq!(
        ledger.enabled("s1", &["clerk"]).await.unwrap(),
        vec!["restock", "take"]
    );

    let batch = ledger
        .fire_batch(
            "s1",
            &[Action::new("take"), Action::new("restock").roles(["clerk"])],
            TS + 2,
        )
        .await
        .unwrap();
    assert_eq!(batch.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(batch[1].prev, batch[0].hash);
    let verified = ledger.verify(Some("s1")).await.unwrap();
    assert_eq!((verified[0].events, &verified[0].head), (4, &batch[1].hash));

    with_stream(&ledger, "s0", &model).await;
    let ids: Vec<String> = ledger
        .streams()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec!["s0", "s1"]);
    assert_eq!(
        code(ledger.create_stream("s1", model.id()).await),
        "STREAM_EXISTS"
    );
    assert_eq!(
        code(ledger.create_stream("x", &"0".repeat(64)).await),
        "UNKNOWN_MODEL"
    );
    assert_eq!(
        code(ledger.create_stream("", model.id()).await),
        "INVALID_INPUT"
    );
    assert_eq!(code(ledger.stream("nope").await), "UNKNOWN_STREAM");
    assert_eq!(code(ledger.events("nope", 0, None).await), "UNKNOWN_STREAM");
    assert_eq!(ledger.verify(None).await.unwrap().len(), 2);
    ledger.close();
}

pub async fn refused_actions_store_nothing_and_say_why<B: Backend>(b: &B) {
    let ledger = b.open("refused").await;
    with_stream(&ledger, "s", &shop(1)).await;
    ledger.fire("s", &Action::new("take"), TS).await.unwrap();
    let before = ledger.stream("s").await.unwrap();

    match ledger
        .fire("s", &Action::new("take"), TS)
        .await
        .unwrap_err()
    {
        ChainError::Fire(petrichain::FireError::NotEnabled {
            place, has, needs, ..
        }) => {
            assert_eq!((place.as_str(), has, needs), ("stock", 0, 1))
        }
        other => panic!("{other:?}"),
    }
    let err = ledger
        .fire("s", &Action::new("restock").roles(["ann"]), TS)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ROLE_DENIED");
    assert!(err.to_string().contains("clerk"), "{err}");
    assert_eq!(
        code(ledger.fire("s", &Action::new("nope"), TS).await),
        "UNKNOWN_TRANSITION"
    );
    assert_eq!(
        code(
            ledger
                .fire("s", &Action::new("restock").roles(["*"]).multiple(0), TS)
                .await
        ),
        "INVALID_MULTIPLE"
    );
    assert_eq!(
        code(
            ledger
                .fire(
                    "s",
                    &Action::new("restock").roles(["*"]).payload("{oops"),
                    TS
                )
                .await
        ),
        "INVALID_PAYLOAD"
    );
    assert_eq!(
        code(
            ledger
                .fire("s", &Action::new("restock").roles(["*"]).payload(""), TS)
                .await
        ),
        "INVALID_PAYLOAD"
    );
    assert_eq!(
        code(
            ledger
                .fire("s", &Action::new("restock").roles(["*"]), u64::MAX)
                .await
        ),
        "INVALID_INPUT"
    );
    assert_eq!(
        code(ledger.fire("nope", &Action::new("take"), TS).await),
        "UNKNOWN_STREAM"
    );
    // A batch whose last action is refused writes none of it.
    let err = ledger
        .fire_batch(
            "s",
            &[
                Action::new("restock").roles(["clerk"]),
                Action::new("take"),
                Action::new("take"),
            ],
            TS,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_ENABLED");
    assert_eq!(ledger.stream("s").await.unwrap(), before);
    assert_eq!(ledger.events("s", 0, None).await.unwrap().len(), 1);
    ledger.verify(None).await.unwrap();
    ledger.close();
}

pub async fn a_real_net_from_the_corpus_plays<B: Backend>(b: &B) {
    let ledger = b.open("tictactoe").await;
    let model = tictactoe();
    with_stream(&ledger, "game", &model).await;
    let x_moves = ledger.enabled("game", &["x"]).await.unwrap();
    assert!(x_moves.contains(&"X11".to_string()), "{x_moves:?}");
    ledger
        .fire("game", &Action::new("X11").actor("xavier").roles(["x"]), TS)
        .await
        .unwrap();
    assert_eq!(
        code(
            ledger
                .fire("game", &Action::new("O11").roles(["o"]), TS)
                .await
        ),
        "NOT_ENABLED"
    );
    assert_eq!(
        code(
            ledger
                .fire("game", &Action::new("O00").roles(["x"]), TS)
                .await
        ),
        "ROLE_DENIED"
    );
    ledger
        .fire("game", &Action::new("O00").actor("olga").roles(["o"]), TS)
        .await
        .unwrap();
    assert_eq!(ledger.verify(Some("game")).await.unwrap()[0].events, 2);
    ledger.close();
}

pub async fn a_ledger_persists_across_close_and_reopen<B: Backend>(b: &B) {
    let ledger = b.open("persist").await;
    with_stream(&ledger, "s", &shop(10)).await;
    let mut fired = Vec::new();
    for i in 0..5 {
        fired.push(
            ledger
                .fire("s", &Action::new("take").payload(format!("[{i}]")), TS + i)
                .await
                .unwrap(),
        );
    }
    ledger.close();
    assert_eq!(code(ledger.stream("s").await), "CLOSED");
    assert_eq!(
        code(ledger.fire("s", &Action::new("take"), TS).await),
        "CLOSED"
    );

    let again = b.open("persist").await;
    assert_eq!(again.events("s", 0, None).await.unwrap(), fired);
    let head = again.stream("s").await.unwrap();
    assert_eq!(
        (head.seq, &head.hash, &head.state),
        (5, &fired[4].hash, &vec![5, 5])
    );
    // The model comes back from the store, not from a cache.
    assert_eq!(again.model(&head.model).await.unwrap().id(), head.model);
    let e6 = again.fire("s", &Action::new("take"), TS).await.unwrap();
    assert_eq!((e6.seq, &e6.prev), (6, &fired[4].hash));
    again.verify(None).await.unwrap();
    again.close();
}

async fn take_all<S: Store>(
    ledger: &Ledger<S>,
    stream: &str,
    who: &str,
    n: u64,
) -> (Vec<Event>, u64) {
    let mut ok = Vec::new();
    let mut refused = 0;
    for i in 0..n {
        match ledger
            .fire(
                stream,
                &Action::new("take").actor(who).payload(format!("{i}")),
                TS,
            )
            .await
        {
            Ok(e) => ok.push(e),
            Err(e) => {
                assert_eq!(e.code(), "NOT_ENABLED", "{e}");
                refused += 1;
            }
        }
    }
    (ok, refused)
}

/// Two connections fire at one stream concurrently: `stock` allows exactly
/// `cap` takes. Exactly `cap` succeed, the rest are refused NOT_ENABLED,
/// the chain is linear and holds every acknowledged event.
/// Returns in how many rounds both connections got events in (an actual
/// interleaving; the memory store's futures never wait, so there it is 0).
pub async fn two_connections_racing_never_fork<B: Backend>(b: &B, rounds: u32, cap: u64) -> u32 {
    let mut mixed = 0;
    let a = b.open("race").await;
    let c = b.open("race").await;
    let model = shop(cap);
    let id = a.put_model(&model).await.unwrap();
    for round in 0..rounds {
        let stream = format!("r{round}");
        a.create_stream(&stream, &id).await.unwrap();
        let ((ok_a, no_a), (ok_c, no_c)) = futures_util::future::join(
            take_all(&a, &stream, "a", cap),
            take_all(&c, &stream, "c", cap),
        )
        .await;
        assert_eq!(ok_a.len() + ok_c.len(), cap as usize, "round {round}");
        if !ok_a.is_empty() && !ok_c.is_empty() {
            mixed += 1;
        }
        assert_eq!(no_a + no_c, cap, "round {round}");
        let stored = a.events(&stream, 0, None).await.unwrap();
        assert_eq!(stored.len(), cap as usize);
        for e in ok_a.iter().chain(&ok_c) {
            assert_eq!(&stored[(e.seq - 1) as usize], e, "acknowledged event lost");
        }
        c.verify(Some(&stream)).await.unwrap();
    }
    a.close();
    c.close();
    mixed
}

pub async fn a_tampered_event_is_found_at_its_seq<B: Backend>(b: &B) {
    let ledger = b.open("tamper").await;
    with_stream(&ledger, "s", &shop(10)).await;
    for i in 0..6 {
        ledger
            .fire(
                "s",
                &Action::new("take").payload(format!("{{\"i\":{i}}}")),
                TS,
            )
            .await
            .unwrap();
    }
    assert!(
        b.tamper("tamper", "s", 3, &|v| v["payload"] = r#"{"i":99}"#.into())
            .await
    );
    let err = ledger.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("HASH_MISMATCH", Some(3)), "{err}");
    assert_eq!(ledger.verify(None).await.unwrap_err(), err);

    // A forger who also recomputes the hash cannot sign it as the device
    // (and would break the link of the next event).
    let mut forged: Event = serde_json::from_value(
        serde_json::to_value(&ledger.events("s", 2, Some(1)).await.unwrap()[0]).unwrap(),
    )
    .unwrap();
    forged.hash = petrichain::chain::hash::event_hash(&forged);
    b.put_raw("tamper", &forged).await;
    let err = ledger.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(3)), "{err}");

    // A state that the net does not reach, rehashed.
    let ledger2 = b.open("tamper-state").await;
    with_stream(&ledger2, "s", &shop(10)).await;
    for _ in 0..3 {
        ledger2.fire("s", &Action::new("take"), TS).await.unwrap();
    }
    let mut e = ledger2.events("s", 2, None).await.unwrap().remove(0);
    let honest = e.clone();
    e.delta = vec![("stock".into(), 0), ("taken".into(), 10)];
    e.hash = petrichain::chain::hash::event_hash(&e);
    b.put_raw("tamper-state", &e).await;
    let err = ledger2.verify(Some("s")).await.unwrap_err();
    assert_eq!(
        (err.code(), err.seq()),
        ("STATE_MISMATCH", Some(3)),
        "{err}"
    );

    // A lying commitment, rehashed: only the root is wrong.
    let mut e = honest.clone();
    e.root = "ab".repeat(32);
    e.hash = petrichain::chain::hash::event_hash(&e);
    b.put_raw("tamper-state", &e).await;
    let err = ledger2.verify(Some("s")).await.unwrap_err();
    assert_eq!(
        (err.code(), err.seq()),
        ("COMMITMENT_MISMATCH", Some(3)),
        "{err}"
    );

    // A forged event: right hash, chain and marking, but another action
    // payload, so the device's signature no longer fits...
    let mut e = honest.clone();
    e.payload = r#"{"forged":true}"#.into();
    e.hash = petrichain::chain::hash::event_hash(&e);
    b.put_raw("tamper-state", &e).await;
    let err = ledger2.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(3)), "{err}");
    // ... with a signature replayed from another event of the same device ...
    e.sig = ledger2.events("s", 0, Some(1)).await.unwrap()[0]
        .sig
        .clone();
    b.put_raw("tamper-state", &e).await;
    let err = ledger2.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(3)), "{err}");
    // ... with no signature at all ...
    e.sig = String::new();
    b.put_raw("tamper-state", &e).await;
    let err = ledger2.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(3)), "{err}");
    // ... or signed by another key that claims to be the signer.
    let other = petrichain::chain::SoftwareKey::from_seed(&[9; 32]);
    e.sig = hex::encode(other.sign_now(&petrichain::chain::signed_message(&e.hash)));
    b.put_raw("tamper-state", &e).await;
    let err = ledger2.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(3)), "{err}");
    b.put_raw("tamper-state", &honest).await;
    ledger2.verify(Some("s")).await.unwrap();

    // A record that no longer parses is reported, not a panic.
    if b.tamper("tamper-state", "s", 1, &|v| v["multiple"] = "two".into())
        .await
    {
        let err = ledger2.verify(Some("s")).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
    }
    ledger.close();
    ledger2.close();
}

pub async fn an_aborted_commit_leaves_no_trace<B: Backend>(b: &B) {
    let ledger = b.open("abort").await;
    with_stream(&ledger, "s", &shop(10)).await;
    let e1 = ledger.fire("s", &Action::new("take"), TS).await.unwrap();
    // A stray record at seq 3 makes the batch's second write fail midway.
    let mut stray = e1.clone();
    stray.seq = 3;
    b.put_raw("abort", &stray).await;
    let err = ledger
        .fire_batch(
            "s",
            &[
                Action::new("take"),
                Action::new("take"),
                Action::new("take"),
            ],
            TS,
        )
        .await
        .unwrap_err();
    assert!(matches!(err.code(), "STORAGE"), "{err:?}");
    let head = ledger.stream("s").await.unwrap();
    assert_eq!((head.seq, &head.hash), (1, &e1.hash));
    let seqs: Vec<u64> = ledger
        .events("s", 0, None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, vec![1, 3], "seq 2 must not have been written");
    ledger.close();
}

pub async fn a_single_append_never_overwrites_a_stored_record<B: Backend>(b: &B) {
    let ledger = b.open("stray-one").await;
    with_stream(&ledger, "s", &shop(10)).await;
    let e1 = ledger.fire("s", &Action::new("take"), TS).await.unwrap();
    // A stray record at seq 2, where the next append goes, is refused,
    // whichever way the store commits (a single event skips the count
    // past the head: `add` guards its one key).
    let mut stray = e1.clone();
    stray.seq = 2;
    b.put_raw("stray-one", &stray).await;
    let err = ledger
        .fire("s", &Action::new("take"), TS)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "STORAGE", "{err:?}");
    let head = ledger.stream("s").await.unwrap();
    assert_eq!((head.seq, &head.hash), (1, &e1.hash));
    let stored = ledger.events("s", 0, None).await.unwrap();
    let kept: Vec<(u64, &str)> = stored.iter().map(|e| (e.seq, e.hash.as_str())).collect();
    assert_eq!(
        kept,
        vec![(1, e1.hash.as_str()), (2, e1.hash.as_str())],
        "the stray is untouched"
    );
    ledger.close();
}

pub async fn export_and_import_round_trip_and_refuse_tampering<B: Backend>(b: &B) {
    let src = b.open("export-src").await;
    with_stream(&src, "s", &shop(10)).await;
    for i in 0..4 {
        src.fire(
            "s",
            &Action::new("take")
                .actor("ann")
                .payload(format!(r#"{{"k":[{i},"é"]}}"#)),
            TS + i,
        )
        .await
        .unwrap();
    }
    let text = src.export_jsonl("s").await.unwrap();
    assert_eq!(text.lines().count(), 5);

    let dst = b.open("export-dst").await;
    // Tampered copies are refused whole; nothing is written.
    let lines: Vec<&str> = text.lines().collect();
    let tampered = text.replace(r#"{\"k\":[2,"#, r#"{\"k\":[7,"#);
    assert_ne!(tampered, text);
    let err = dst.import_jsonl(&tampered).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("HASH_MISMATCH", Some(3)), "{err}");
    let mut dropped = lines.clone();
    dropped.remove(2);
    assert_eq!(
        dst.import_jsonl(&dropped.join("\n"))
            .await
            .unwrap_err()
            .code(),
        "SEQ_GAP"
    );
    let garbage = format!("{}\n{}\n{{not json\n", lines[0], lines[1]);
    let err = dst.import_jsonl(&garbage).await.unwrap_err();
    assert_eq!(
        err,
        ChainError::ImportSyntax {
            line: 3,
            message: err.to_string().split_once(": ").unwrap().1.to_string()
        }
    );
    assert_eq!(
        dst.import_jsonl("").await.unwrap_err().code(),
        "IMPORT_SYNTAX"
    );
    assert!(dst.streams().await.unwrap().is_empty());

    // A prefix, then the whole file: the second import adds the rest.
    let prefix = lines[..3].join("\n");
    let r = dst.import_jsonl(&prefix).await.unwrap();
    assert_eq!((r.events, r.added), (2, 2));
    let r = dst.import_jsonl(&text).await.unwrap();
    assert_eq!((r.events, r.added), (4, 2));
    assert_eq!(dst.import_jsonl(&text).await.unwrap().added, 0);
    assert_eq!(dst.import_jsonl(&prefix).await.unwrap().added, 0);
    assert_eq!(
        dst.events("s", 0, None).await.unwrap(),
        src.events("s", 0, None).await.unwrap()
    );
    assert_eq!(dst.export_jsonl("s").await.unwrap(), text);
    dst.verify(None).await.unwrap();
    // A different history of the same stream is refused.
    src.fire("s", &Action::new("take"), TS).await.unwrap();
    dst.fire("s", &Action::new("take").actor("other"), TS)
        .await
        .unwrap();
    let err = dst
        .import_jsonl(&src.export_jsonl("s").await.unwrap())
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.seq()), ("DIVERGED", Some(5)));
    src.close();
    dst.close();
}

pub const PAYLOADS: &[&str] = &[
    r#"{"name":"Zoë 🌧 «petrichor» 雨","emoji":"\ud83d\ude00"}"#,
    r#"{"big":123456789012345678901234567890,"neg":-9007199254740993,"tiny":1e-400,"huge":2.5e400,"f":0.10000000000000000555}"#,
    "  {\n  \"spaced\" : [ 1 ,2,\t3 ] ,\"nested\":{\"a\":{\"b\":{\"c\":[[[{}]]]}}} }  ",
    r#""just a string with \"quotes\" and \\ and \u0000""#,
    "[true,false,null,-0,0.0]",
];

pub async fn payloads_survive_byte_for_byte<B: Backend>(b: &B) {
    let ledger = b.open("payloads").await;
    with_stream(&ledger, "s", &shop(100)).await;
    for p in PAYLOADS {
        let e = ledger
            .fire("s", &Action::new("take").payload(*p), TS)
            .await
            .unwrap();
        assert_eq!(e.payload, *p);
    }
    ledger.close();
    let again = b.open("payloads").await;
    let stored: Vec<String> = again
        .events("s", 0, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.payload)
        .collect();
    assert_eq!(stored, PAYLOADS);
    let text = again.export_jsonl("s").await.unwrap();
    let copy = b.open("payloads-copy").await;
    copy.import_jsonl(&text).await.unwrap();
    let copied: Vec<String> = copy
        .events("s", 0, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.payload)
        .collect();
    assert_eq!(copied, PAYLOADS);
    again.verify(None).await.unwrap();
    again.close();
    copy.close();
}

pub async fn subscribers_hear_of_changes_from_every_connection<B: Backend>(b: &B) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let a = b.open("subscribe").await;
    let c = b.open("subscribe").await;
    with_stream(&a, "s", &shop(10)).await;
    with_stream(&a, "t", &shop(10)).await;
    // Let the creations reach the other connection before subscribing.
    b.settle().await;
    let heard_a = Rc::new(RefCell::new(Vec::new()));
    let heard_c = Rc::new(RefCell::new(Vec::new()));
    let (ha, hc) = (heard_a.clone(), heard_c.clone());
    let sub = a.subscribe(Some("s"), move |ch| {
        ha.borrow_mut().push((ch.stream.clone(), ch.seq))
    });
    c.subscribe(None, move |ch| {
        hc.borrow_mut().push((ch.stream.clone(), ch.seq))
    });
    a.fire("s", &Action::new("take"), TS).await.unwrap();
    a.fire("t", &Action::new("take"), TS).await.unwrap();
    c.fire_batch("s", &[Action::new("take"), Action::new("take")], TS)
        .await
        .unwrap();
    b.settle().await;
    assert_eq!(
        *heard_a.borrow(),
        vec![("s".to_string(), 1), ("s".to_string(), 3)]
    );
    assert_eq!(
        *heard_c.borrow(),
        vec![
            ("s".to_string(), 1),
            ("t".to_string(), 1),
            ("s".to_string(), 3)
        ]
    );
    a.unsubscribe(sub);
    c.fire("s", &Action::new("take"), TS).await.unwrap();
    b.settle().await;
    assert_eq!(heard_a.borrow().len(), 2);
    a.close();
    c.close();
}

pub async fn deleting_a_stream_removes_it_and_nothing_else<B: Backend>(b: &B) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let a = b.open("delete").await;
    let c = b.open("delete").await;
    with_stream(&a, "s", &shop(5)).await;
    with_stream(&a, "s-2", &shop(5)).await;
    let gone = a
        .fire_batch("s", &[Action::new("take"), Action::new("take")], TS)
        .await
        .unwrap();
    a.fire("s-2", &Action::new("take"), TS).await.unwrap();
    b.settle().await;
    // The other connection knows the stream (its model and tip are cached).
    c.fire("s", &Action::new("take"), TS).await.unwrap();
    b.settle().await;
    let heard = Rc::new(RefCell::new(Vec::new()));
    let h = heard.clone();
    c.subscribe(None, move |ch| {
        h.borrow_mut()
            .push((ch.stream.clone(), ch.seq, ch.hash.clone(), ch.added))
    });

    a.delete_stream("s").await.unwrap();
    b.settle().await;
    assert_eq!(code(a.stream("s").await), "UNKNOWN_STREAM");
    assert_eq!(code(c.stream("s").await), "UNKNOWN_STREAM");
    assert!(a.store().events("s", 0, None).await.unwrap().is_empty());
    assert_eq!(a.store().event_by_hash(&gone[0].hash).await.unwrap(), None);
    let ids: Vec<String> = a
        .streams()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["s-2"], "a stream whose id starts the same is kept");
    assert_eq!(a.store().events("s-2", 0, None).await.unwrap().len(), 1);
    a.verify(None).await.unwrap();
    assert_eq!(
        *heard.borrow(),
        [("s".to_string(), 0, GENESIS_PREV.to_string(), 0)],
        "the other connection hears of it as seq 0"
    );
    assert_eq!(code(a.delete_stream("s").await), "UNKNOWN_STREAM");
    assert_eq!(
        code(a.fire("s", &Action::new("take"), TS).await),
        "UNKNOWN_STREAM"
    );

    // The id is free again, for another net; the other connection, which
    // cached the old net, is told once and then appends on the new one.
    let other = shop(3);
    with_stream(&a, "s", &other).await;
    b.settle().await;
    assert_eq!(
        code(c.fire("s", &Action::new("take"), TS).await),
        "WRONG_MODEL"
    );
    let e = c.fire("s", &Action::new("take"), TS).await.unwrap();
    assert_eq!((e.seq, e.model.as_str()), (1, other.id()));
    assert_eq!(a.stream("s").await.unwrap().state, vec![2, 1]);
    a.verify(None).await.unwrap();
    a.close();
    c.close();
}
