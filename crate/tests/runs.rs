//! Signature runs (docs/chain-format.md, "Signature runs"): a batch signs
//! once, the verifier accepts exactly the runs its own signer closes, a
//! ledger never signs on top of an unsigned head, and what leaves the
//! device (a push, an export) goes fully signed.

use std::cell::Cell;
use std::rc::Rc;

use petrichain::chain::{
    verify_events, ChainError, Device, DeviceFuture, Event, SoftwareKey, Verifier, MAX_RUN,
};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::sync::protocol::{AppendRequest, EventPage, ModelDoc, StreamList};
use petrichain::sync::{
    sync_stream, MemoryBackend, PushOutcome, SyncError, SyncOptions, Transport,
};
use petrichain::Model;

/// Any key may fire `t` (no roles); `p` holds plenty.
const NET: &str = r#"{"places":[{"id":"p","initial":100000},{"id":"q"}],
  "transitions":[{"id":"t"}],
  "arcs":[{"source":"p","target":"t"},{"source":"t","target":"q"}]}"#;

fn model() -> Model {
    import_json(NET).unwrap().0
}

type L = Ledger<MemoryStore>;

async fn ledger_on(store: MemoryStore, device: Rc<dyn Device>, create: bool) -> L {
    let ledger = Ledger::new(store, device);
    let id = ledger.put_model(&model()).await.unwrap();
    if create {
        ledger.create_stream("s", &id).await.unwrap();
    }
    ledger
}

fn key(seed: u8) -> Rc<dyn Device> {
    Rc::new(SoftwareKey::from_seed(&[seed; 32]))
}

fn ts(n: usize) -> Vec<Action> {
    (0..n).map(|_| Action::new("t")).collect()
}

fn signed_seqs(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter(|e| !e.sig.is_empty())
        .map(|e| e.seq)
        .collect()
}

fn bad_signature(err: &ChainError) -> (u64, Option<u64>, Option<&'static str>) {
    match err {
        ChainError::BadSignature {
            seq,
            unsigned_from,
            reason,
            ..
        } => (*seq, *unsigned_from, *reason),
        other => panic!("expected BAD_SIGNATURE, got {other:?}"),
    }
}

#[test]
fn a_batch_signs_its_last_event_and_every_thousandth() {
    block_on(async {
        let l = ledger_on(MemoryStore::new(), key(1), true).await;
        let one = l.fire("s", &Action::new("t"), 1).await.unwrap();
        assert!(!one.sig.is_empty(), "a single fire is signed");
        let hundred = l.fire_batch("s", &ts(100), 2).await.unwrap();
        assert_eq!(signed_seqs(&hundred), vec![101]);
        let big = l.fire_batch("s", &ts(2500), 3).await.unwrap();
        assert_eq!(signed_seqs(&big), vec![1101, 2101, 2601]);
        // The store keeps the runs as they are, and they verify.
        let all = l.all_events("s").await.unwrap();
        assert_eq!(signed_seqs(&all), vec![1, 101, 1101, 2101, 2601]);
        assert_eq!(l.verify(Some("s")).await.unwrap()[0].events, 2601);
        assert_eq!(verify_events(&model(), "s", &all).unwrap().events, 2601);
        // An unsigned event serialises without `sig`.
        assert!(!serde_json::to_string(&all[1]).unwrap().contains("\"sig\""));
        // Remote input is strict: every event signed.
        let m = model();
        let mut strict = Verifier::new(&m, "s");
        strict.push(&all[0]).unwrap();
        let err = strict.push(&all[1]).unwrap_err();
        assert_eq!(bad_signature(&err), (2, None, None));
    });
}

#[test]
fn the_verifier_refuses_an_unsigned_tail_a_broken_run_and_a_long_one() {
    block_on(async {
        let store = MemoryStore::new();
        let a = ledger_on(store.connect(), key(1), true).await;
        let b = ledger_on(store.connect(), key(2), false).await;
        a.fire_batch("s", &ts(3), 1).await.unwrap();
        b.fire("s", &Action::new("t"), 2).await.unwrap();
        let chain = a.all_events("s").await.unwrap();
        let m = model();
        assert_eq!(signed_seqs(&chain), vec![3, 4]);
        assert_eq!(verify_events(&m, "s", &chain).unwrap().events, 4);

        // Ends inside a run: refused at the run's first seq.
        let err = verify_events(&m, "s", &chain[..2]).unwrap_err();
        assert_eq!(bad_signature(&err), (1, Some(1), Some("unsigned-tail")));
        assert!(err.to_string().contains("carry no signature"), "{err}");
        // The same through flush: nothing counts as verified past it.
        let mut v = Verifier::new(&m, "s").accept_runs();
        v.push(&chain[0]).unwrap();
        assert!(v.in_run());
        assert_eq!(v.flush().unwrap_err().code(), "BAD_SIGNATURE");

        // A's run not closed by A: another signer's event follows it.
        let mut broken = chain.clone();
        broken[2].sig.clear();
        let err = verify_events(&m, "s", &broken).unwrap_err();
        assert_eq!(bad_signature(&err), (1, Some(1), Some("run-broken")));

        // B's signature does not close A's run either, even as B's: a
        // run's signature is its own signer's.
        let mut stolen = chain.clone();
        stolen[2].sig = stolen[3].sig.clone();
        let err = verify_events(&m, "s", &stolen).unwrap_err();
        assert_eq!(bad_signature(&err).0, 3);

        // A wrong signature at a run's end is that event's failure.
        let mut forged = chain.clone();
        forged[2].sig = "00".repeat(64);
        assert_eq!(
            bad_signature(&verify_events(&m, "s", &forged).unwrap_err()).0,
            3
        );
    });
}

#[test]
fn a_run_holds_at_most_max_run_events() {
    block_on(async {
        let l = ledger_on(MemoryStore::new(), key(1), true).await;
        let events = l.fire_batch("s", &ts(1001), 1).await.unwrap();
        assert_eq!(signed_seqs(&events), vec![1000, 1001]);
        let m = model();
        // Exactly MAX_RUN events in the first run: fine.
        assert_eq!(MAX_RUN, 1000);
        verify_events(&m, "s", &events).unwrap();
        // Without the signature at 1000, the run would be 1001 long.
        let mut long = events.clone();
        long[999].sig.clear();
        let err = verify_events(&m, "s", &long).unwrap_err();
        assert_eq!(bad_signature(&err), (1, Some(1), Some("run-too-long")));
    });
}

/// Claims another device's public key, as anyone who can write the local
/// store can; its "signatures" are zeros.
struct Mimic([u8; 32]);

impl Device for Mimic {
    fn public_key(&self) -> [u8; 32] {
        self.0
    }
    fn random(&self, out: &mut [u8]) -> Result<(), ChainError> {
        out.fill(7);
        Ok(())
    }
    fn sign<'a>(&'a self, messages: &'a [Vec<u8>]) -> DeviceFuture<'a, Vec<[u8; 64]>> {
        Box::pin(std::future::ready(Ok(vec![[0u8; 64]; messages.len()])))
    }
}

/// The device's store with unsigned events appended by someone who only
/// knows its public key: a valid chain but for the signatures.
async fn tampered() -> (MemoryStore, L) {
    let store = MemoryStore::new();
    let device = key(1);
    let victim = ledger_on(store.connect(), device.clone(), true).await;
    victim.fire("s", &Action::new("t"), 1).await.unwrap();
    let attacker = ledger_on(store.connect(), Rc::new(Mimic(device.public_key())), false).await;
    let written = attacker.fire_batch("s", &ts(2), 2).await.unwrap();
    // The zero "signature" of its last event removed by hand: an unsigned
    // tail in the device's name.
    let mut last = written[1].clone();
    last.sig.clear();
    store.overwrite_event(last);
    (store, victim)
}

#[test]
fn an_append_never_builds_on_an_unsigned_head() {
    block_on(async {
        let (_store, victim) = tampered().await;
        // Without the head rule, this append would chain on the forged
        // events and its signature would close their run: they would
        // verify as the device's.
        let err = victim.fire("s", &Action::new("t"), 3).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
        assert!(err.to_string().contains("carries no signature"), "{err}");
        let err = victim.fire_batch("s", &ts(2), 3).await.unwrap_err().code();
        assert_eq!(err, "CORRUPT_RECORD");
        let err = victim.verify(Some("s")).await.unwrap_err();
        assert_eq!(bad_signature(&err), (2, Some(2), Some("unsigned-tail")));
        assert_eq!(victim.stream("s").await.unwrap().seq, 3, "nothing added");
    });
}

#[test]
fn an_append_never_builds_on_a_head_whose_signature_is_false() {
    block_on(async {
        let store = MemoryStore::new();
        let device = key(1);
        let victim = ledger_on(store.connect(), device.clone(), true).await;
        let attacker = ledger_on(store.connect(), Rc::new(Mimic(device.public_key())), false).await;
        attacker.fire_batch("s", &ts(2), 1).await.unwrap();
        let err = victim.fire("s", &Action::new("t"), 2).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
    });
}

#[test]
fn a_push_never_signs_events_no_signature_of_the_device_covers() {
    block_on(async {
        let (_store, victim) = tampered().await;
        let backend = MemoryBackend::new("mem://runs");
        let err = sync_stream(&victim, &backend, "s", &SyncOptions::default(), &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
        assert!(backend.events("s").is_empty(), "nothing left the device");
    });
}

#[test]
fn a_push_sends_every_event_signed_and_rebases_as_a_run() {
    block_on(async {
        let backend = MemoryBackend::new("mem://runs");
        let small = SyncOptions {
            push_batch: 2,
            ..SyncOptions::default()
        };
        let a = ledger_on(MemoryStore::new(), key(1), true).await;
        a.fire_batch("s", &ts(5), 1).await.unwrap();
        let r = sync_stream(&a, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        assert_eq!(r.pushed, 5);
        let remote = backend.events("s");
        assert_eq!(signed_seqs(&remote), vec![1, 2, 3, 4, 5]);
        // The device keeps its run: the same events (same hashes).
        let local = a.all_events("s").await.unwrap();
        assert_eq!(signed_seqs(&local), vec![5]);
        let hashes = |v: &[Event]| v.iter().map(|e| e.hash.clone()).collect::<Vec<_>>();
        assert_eq!(hashes(&local), hashes(&remote));

        // Another device moves the remote; A's next batch rebases on it.
        let b = Ledger::new(MemoryStore::new(), key(2));
        b.put_model(&model()).await.unwrap();
        sync_stream(&b, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        b.fire("s", &Action::new("t"), 2).await.unwrap();
        sync_stream(&b, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        a.fire_batch("s", &ts(3), 3).await.unwrap();
        let r = sync_stream(&a, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        assert_eq!((r.rebased, r.pushed), (3, 3));
        let local = a.all_events("s").await.unwrap();
        assert_eq!(signed_seqs(&local), vec![5, 6, 9], "the rebase is one run");
        assert_eq!(a.verify(Some("s")).await.unwrap()[0].events, 9);
        let remote = backend.events("s");
        assert_eq!(signed_seqs(&remote), (1..=9).collect::<Vec<_>>());
        assert_eq!(hashes(&local), hashes(&remote));
    });
}

/// The in-memory backend, but every push after the first `ok` ones fails
/// as if the connection dropped.
struct Dropping {
    inner: MemoryBackend,
    ok: Cell<u32>,
}

impl Transport for Dropping {
    fn backend(&self) -> &str {
        self.inner.backend()
    }
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        self.inner.list_streams().await
    }
    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        self.inner.get_model(id).await
    }
    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        self.inner.put_model(doc).await
    }
    async fn pull(&self, s: &str, after: u64, limit: u64) -> Result<Option<EventPage>, SyncError> {
        self.inner.pull(s, after, limit).await
    }
    async fn push(&self, s: &str, r: &AppendRequest) -> Result<PushOutcome, SyncError> {
        if self.ok.get() == 0 {
            return Err(SyncError::Network {
                backend: self.backend().into(),
                message: "connection reset".into(),
            });
        }
        self.ok.set(self.ok.get() - 1);
        self.inner.push(s, r).await
    }
}

#[test]
fn a_push_that_stops_inside_a_run_never_leaves_a_run_open() {
    block_on(async {
        // A's run 1..4 goes out in batches of 3; the second is lost, so the
        // remote holds 1..3 (signed) and another device builds on seq 3.
        let backend = MemoryBackend::new("mem://mid");
        let small = SyncOptions {
            push_batch: 3,
            ..SyncOptions::default()
        };
        let a = ledger_on(MemoryStore::new(), key(1), true).await;
        a.fire_batch("s", &ts(4), 1).await.unwrap();
        let dropping = Dropping {
            inner: backend.clone(),
            ok: Cell::new(1),
        };
        let err = sync_stream(&a, &dropping, "s", &small, &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NETWORK");
        assert_eq!(signed_seqs(&backend.events("s")), vec![1, 2, 3]);
        let b = Ledger::new(MemoryStore::new(), key(2));
        b.put_model(&model()).await.unwrap();
        sync_stream(&b, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        b.fire("s", &Action::new("t"), 2).await.unwrap();
        sync_stream(&b, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        // A rebases its seq 4 on B's: the replaced tail must not start
        // inside A's run (1..3 unsigned here), or A's chain would hold a
        // run that B's event breaks.
        let r = sync_stream(&a, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        assert_eq!((r.rebased, r.pushed), (1, 1));
        assert_eq!(a.verify(Some("s")).await.unwrap()[0].events, 5);
        a.fire("s", &Action::new("t"), 3).await.unwrap();
        sync_stream(&a, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        sync_stream(&b, &backend, "s", &small, &|_| {})
            .await
            .unwrap();
        assert_eq!(b.verify(Some("s")).await.unwrap()[0].events, 6);
        assert_eq!(a.verify(Some("s")).await.unwrap()[0].events, 6);
    });
}

#[test]
fn an_export_goes_out_fully_signed_and_proofs_want_a_signed_event() {
    block_on(async {
        let a = ledger_on(MemoryStore::new(), key(1), true).await;
        a.fire_batch("s", &ts(3), 1).await.unwrap();
        let text = a.export_jsonl("s").await.unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.contains("\"sig\":\"")), "{text}");
        // The same chain: the file's events hash as the stored ones.
        let parsed = petrichain::chain::jsonl::parse(&text).unwrap();
        let petrichain::chain::jsonl::Chain::V2 { events, .. } = parsed.chain else {
            panic!("version 2")
        };
        let stored = a.all_events("s").await.unwrap();
        let hashes = |v: &[Event]| v.iter().map(|e| e.hash.clone()).collect::<Vec<_>>();
        assert_eq!(hashes(&events), hashes(&stored));
        // Strictly valid: old readers take it.
        let m = model();
        let mut strict = Verifier::new(&m, "s");
        for e in &events {
            strict.push(e).unwrap();
        }
        strict.finish().unwrap();
        // A file that keeps a run imports too (the format allows it).
        let b = Ledger::new(MemoryStore::new(), key(2));
        let mut kept = String::new();
        petrichain::chain::jsonl::write(&m, "s", &stored, &mut kept);
        assert_eq!(b.import_jsonl(&kept).await.unwrap().events, 3);
        // ...but its run is A's: B cannot send it signed.
        let err = sync_stream(
            &b,
            &MemoryBackend::new("mem://x"),
            "s",
            &SyncOptions::default(),
            &|_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "BAD_SIGNATURE", "{err}");

        // A proof rests on its event's own signature.
        let err = a.prove("s", "q", Some(2)).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("no signature of its own"), "{err}");
        let (event, proof) = a.prove("s", "q", None).await.unwrap();
        assert!(!event.sig.is_empty());
        assert!(proof.verify(&event.root));
    });
}

/// A chain of single fires by two signers (one store, two ledgers), each
/// event signed.
fn two_signer_chain(signers: &[bool]) -> Vec<Event> {
    block_on(async {
        let store = MemoryStore::new();
        let a = ledger_on(store.connect(), key(1), true).await;
        let b = ledger_on(store.connect(), key(2), false).await;
        for (i, by_b) in signers.iter().enumerate() {
            let l = if *by_b { &b } else { &a };
            l.fire("s", &Action::new("t"), i as u64).await.unwrap();
        }
        a.all_events("s").await.unwrap()
    })
}

/// The first seq of the first run of `events` that no later signature of
/// its own signer closes (the format's rule), if any.
fn first_open_run(events: &[Event]) -> Option<u64> {
    let mut from: Option<usize> = None;
    for (i, e) in events.iter().enumerate() {
        if let Some(f) = from {
            if events[f].signer != e.signer {
                return Some(events[f].seq);
            }
        }
        if e.sig.is_empty() {
            from.get_or_insert(i);
        } else {
            from = None;
        }
    }
    from.map(|f| events[f].seq)
}

proptest::proptest! {
    // (Each case signs and checks a few dozen Ed25519 signatures.)
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// The verifier accepts exactly the chains where every unsigned event
    /// is closed by its own signer's later signature in the same run, and
    /// otherwise names the run's first seq; a strict verifier accepts only
    /// fully signed chains.
    #[test]
    fn the_verifier_accepts_exactly_the_closed_runs(
        shape in proptest::collection::vec((proptest::bool::ANY, proptest::bool::ANY), 1..16)
    ) {
        let signers: Vec<bool> = shape.iter().map(|(b, _)| *b).collect();
        let mut events = two_signer_chain(&signers);
        for (e, (_, keep)) in events.iter_mut().zip(&shape) {
            if !keep {
                e.sig.clear();
            }
        }
        let m = model();
        let got = verify_events(&m, "s", &events);
        match first_open_run(&events) {
            None => proptest::prop_assert_eq!(got.unwrap().events, events.len() as u64),
            Some(seq) => {
                let err = got.unwrap_err();
                proptest::prop_assert_eq!(bad_signature(&err).0, seq);
                proptest::prop_assert_eq!(bad_signature(&err).1, Some(seq));
            }
        }
        let mut strict = Verifier::new(&m, "s");
        let all_signed = events.iter().all(|e| !e.sig.is_empty());
        let strict_ok = events.iter().all(|e| strict.push(e).is_ok()) && strict.finish().is_ok();
        proptest::prop_assert_eq!(strict_ok, all_signed);
    }

    /// Batches by two signers on one stream: the ledger signs each batch's
    /// last event only, and its verify (and the format's rule) agree.
    #[test]
    fn the_append_path_and_the_verifier_agree(
        batches in proptest::collection::vec((proptest::bool::ANY, 1usize..6), 1..8)
    ) {
        let (events, ends) = block_on(async {
            let store = MemoryStore::new();
            let a = ledger_on(store.connect(), key(1), true).await;
            let b = ledger_on(store.connect(), key(2), false).await;
            let mut ends = Vec::new();
            let mut seq = 0;
            for (by_b, n) in &batches {
                let l = if *by_b { &b } else { &a };
                l.fire_batch("s", &ts(*n), 1).await.unwrap();
                seq += *n as u64;
                ends.push(seq);
            }
            assert_eq!(a.verify(Some("s")).await.unwrap()[0].events, seq);
            assert_eq!(b.verify(Some("s")).await.unwrap()[0].events, seq);
            (a.all_events("s").await.unwrap(), ends)
        });
        proptest::prop_assert_eq!(signed_seqs(&events), ends);
        proptest::prop_assert_eq!(first_open_run(&events), None);
        proptest::prop_assert!(verify_events(&model(), "s", &events).is_ok());
    }
}
