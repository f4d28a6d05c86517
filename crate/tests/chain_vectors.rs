//! The test vectors of docs/chain-format.md, pinned: if the canonical
//! encoding, the marking commitment, the hash or the signature changes, this
//! fails (and the docs must change too). Version 1 vectors are kept too: a
//! version 1 export still imports (upgraded) and verifies.

use std::cell::Cell;
use std::rc::Rc;

use petrichain::chain::{
    hash, signed_message, verify_events, ChainError, Device, DeviceFuture, Event, SoftwareKey,
    GENESIS_PREV,
};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};

/// The net of the vectors (docs/chain-format.md, "Test vectors").
pub const NET: &str = r#"{"places":[{"id":"account","initial":100},{"id":"paid","capacity":50}],"transitions":[{"id":"pay","roles":["clerk"]}],"arcs":[{"source":"account","target":"pay"},{"source":"pay","target":"paid"}]}"#;

/// RFC 8032, section 7.1, TEST 1: the fixed test key of the vectors.
const TEST_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const TEST_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/// The test key, with nonces 000102..0f, 101112..1f, ... instead of random
/// ones, so that the vectors are reproducible.
struct TestDevice {
    key: SoftwareKey,
    next: Cell<u8>,
}

impl Device for TestDevice {
    fn public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }
    fn random(&self, out: &mut [u8]) -> Result<(), ChainError> {
        let base = self.next.get();
        for (i, b) in out.iter_mut().enumerate() {
            *b = base.wrapping_add(i as u8);
        }
        self.next.set(base.wrapping_add(16));
        Ok(())
    }
    fn sign<'a>(&'a self, messages: &'a [Vec<u8>]) -> DeviceFuture<'a, Vec<[u8; 64]>> {
        self.key.sign(messages)
    }
}

fn test_device() -> TestDevice {
    device_of(TEST_SECRET, 0)
}

fn device_of(secret: &str, first_nonce: u8) -> TestDevice {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(secret, &mut seed).unwrap();
    TestDevice {
        key: SoftwareKey::from_seed(&seed),
        next: Cell::new(first_nonce),
    }
}

/// RFC 8032, section 7.1, TEST 2: the key granted a role in the grant vectors.
const TEST2_SECRET: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const TEST2_PUBLIC: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

/// Stream `book-2` (docs/chain-format.md, "Grants, revocations and
/// profiles"): TEST 1 grants `clerk` to TEST 2, which pays once.
fn grant_vectors() -> (petrichain::Model, Vec<Event>) {
    let (model, _) = import_json(NET).unwrap();
    let events = block_on(async {
        let owner = Ledger::new(MemoryStore::new(), Rc::new(test_device()));
        let id = owner.put_model(&model).await.unwrap();
        owner.create_stream("book-2", &id).await.unwrap();
        let grant = format!(r#"{{"key":"{TEST2_PUBLIC}","role":"clerk"}}"#);
        owner
            .fire(
                "book-2",
                &Action::new("$grant").payload(grant),
                1_700_000_000_000,
            )
            .await
            .unwrap();
        let clerk = Ledger::new(MemoryStore::new(), Rc::new(device_of(TEST2_SECRET, 0x10)));
        clerk
            .import_jsonl(&owner.export_jsonl("book-2").await.unwrap())
            .await
            .unwrap();
        clerk
            .fire(
                "book-2",
                &Action::new("pay").roles(["clerk"]),
                1_700_000_000_001,
            )
            .await
            .unwrap();
        clerk.all_events("book-2").await.unwrap()
    });
    (model, events)
}

#[test]
fn the_documented_grant_vectors_hold_and_are_shown() {
    let (model, events) = grant_vectors();
    assert_eq!(events[0].action, "$grant");
    assert_eq!(
        (events[0].signer.as_str(), events[1].signer.as_str()),
        (TEST_PUBLIC, TEST2_PUBLIC)
    );
    verify_events(&model, "book-2", &events).unwrap();
    let doc = include_str!("../../docs/chain-format.md");
    for e in &events {
        let line = serde_json::to_string(e).unwrap();
        assert!(
            doc.contains(&line),
            "docs/chain-format.md lacks the JSON line {line}"
        );
    }
    // Without the grant (a verifier that knows nothing of seq 1's entry),
    // TEST 2's event is refused.
    let mut v = petrichain::chain::Verifier::resume(
        &model,
        "book-2",
        1,
        &events[0].hash,
        model.initial_marking(),
    )
    .unwrap();
    assert_eq!(v.push(&events[1]).unwrap_err().code(), "ROLE_NOT_GRANTED");
}

/// Prints the grant vectors: `cargo test --test chain_vectors -- --nocapture print_grant`.
#[test]
fn print_grant_vectors() {
    for e in &grant_vectors().1 {
        println!("json line: {}", serde_json::to_string(e).unwrap());
    }
}

fn vectors() -> (petrichain::Model, Vec<Event>) {
    let (model, _) = import_json(NET).unwrap();
    let events = block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(test_device()));
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("book-1", &id).await.unwrap();
        ledger
            .fire(
                "book-1",
                &Action::new("pay").multiple(30).actor("Zoë \"Z\" \\ \n").roles(["clerk", "auditor"]).payload(r#"{"ref":"inv-7","amount":123456789012345678901234567890,"note":"\u00e9 é 😀"}"#),
                1_700_000_000_000,
            )
            .await
            .unwrap();
        ledger
            .fire(
                "book-1",
                &Action::new("pay").multiple(5).roles(["*"]),
                1_700_000_000_001,
            )
            .await
            .unwrap();
        ledger.all_events("book-1").await.unwrap()
    });
    (model, events)
}

#[test]
fn the_documented_vectors_hold() {
    let (model, events) = vectors();
    assert_eq!(
        model.canonical_json(),
        r#"{"arcs":[{"kind":"normal","source":"account","target":"pay","weight":1},{"kind":"normal","source":"pay","target":"paid","weight":1}],"name":"","places":[{"capacity":0,"id":"account","initial":100,"label":"","x":0,"y":0},{"capacity":50,"id":"paid","initial":0,"label":"","x":0,"y":0}],"transitions":[{"id":"pay","label":"","roles":["clerk"],"x":0,"y":0}],"version":1}"#
    );
    assert_eq!(model.id(), MODEL_ID);
    assert_eq!(hash::canonical_text(&events[0]), TEXT_1);
    assert_eq!(events[0].hash, HASH_1);
    assert_eq!(events[0].prev, GENESIS_PREV);
    assert_eq!(hash::canonical_text(&events[1]), TEXT_2);
    assert_eq!(events[1].hash, HASH_2);
    assert_eq!(events[0].signer, TEST_PUBLIC);
    assert_eq!(events[0].sig, SIG_1);
    assert_eq!(events[1].sig, SIG_2);
    assert_eq!(
        signed_message(HASH_1),
        format!("petrichain:event:v2:{HASH_1}").into_bytes()
    );
    verify_events(&model, "book-1", &events).unwrap();
}

/// The place proof of docs/chain-format.md: `paid` held 35 after event 2,
/// checked against event 2's root alone.
#[test]
fn the_documented_place_proof_holds() {
    let (model, events) = vectors();
    block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(test_device()));
        ledger.put_model(&model).await.unwrap();
        let text = {
            let mut t = String::new();
            petrichain::chain::jsonl::write(&model, "book-1", &events, &mut t);
            t
        };
        ledger.import_jsonl(&text).await.unwrap();
        let (event, proof) = ledger.prove("book-1", "paid", Some(2)).await.unwrap();
        assert_eq!(event, events[1]);
        let json = serde_json::to_string(&proof).unwrap();
        println!("proof: {json}");
        assert_eq!(json, PROOF_2);
        assert!(proof.verify(&event.root));
        let doc = include_str!("../../docs/chain-format.md");
        assert!(
            doc.contains(PROOF_2),
            "docs/chain-format.md lacks {PROOF_2}"
        );
        let lie = petrichain::chain::PlaceProof { count: 36, ..proof };
        assert!(!lie.verify(&event.root));
    });
}

/// The version 1 export of docs/chain-format.md ("Version 1") imports:
/// verified under the version 1 rules, then upgraded and signed.
#[test]
fn the_documented_version_1_export_imports_upgraded() {
    let (model, _) = import_json(NET).unwrap();
    let file = format!(
        "{{\"format\":\"petrichain-stream\",\"version\":1,\"stream\":\"book-1\",\"model\":\"{}\",\"net\":{}}}\n{V1_LINE_1}\n{V1_LINE_2}\n",
        model.id(),
        model.canonical_json()
    );
    let doc = include_str!("../../docs/chain-format.md");
    for needle in [V1_LINE_1, V1_LINE_2] {
        assert!(doc.contains(needle), "docs/chain-format.md lacks {needle}");
    }
    block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(test_device()));
        let report = ledger.import_jsonl(&file).await.unwrap();
        assert_eq!((report.version, report.events, report.added), (1, 2, 2));
        let events = ledger.all_events("book-1").await.unwrap();
        assert_eq!(
            events[1].delta,
            vec![("account".into(), 65), ("paid".into(), 35)]
        );
        assert_eq!(events[0].actor, "Zoë \"Z\" \\ \n");
        assert_eq!(
            events[0].nonce,
            petrichain::chain::v1::upgrade_nonce(V1_HASH_1)
        );
        assert_eq!(ledger.verify(None).await.unwrap()[0].marking, vec![65, 35]);
        // The same file again changes nothing: the upgrade is deterministic.
        assert_eq!(ledger.import_jsonl(&file).await.unwrap().added, 0);
        // A version 1 file with one byte changed is refused with its seq.
        let bad = file.replace("\"ts\":1700000000001", "\"ts\":1700000000002");
        let err = Ledger::memory().import_jsonl(&bad).await.unwrap_err();
        assert_eq!((err.code(), err.seq()), ("HASH_MISMATCH", Some(2)));
    });
}

/// docs/chain-format.md shows these same vectors.
#[test]
fn the_docs_show_the_pinned_vectors() {
    let doc = include_str!("../../docs/chain-format.md");
    let (model, events) = vectors();
    for needle in [MODEL_ID, TEXT_1, HASH_1, TEXT_2, HASH_2, NET] {
        assert!(doc.contains(needle), "docs/chain-format.md lacks {needle}");
    }
    for e in &events {
        let line = serde_json::to_string(e).unwrap();
        assert!(
            doc.contains(&line),
            "docs/chain-format.md lacks the JSON line {line}"
        );
    }
    assert!(doc.contains(model.id()));
}

/// Prints the vectors for the docs: `cargo test --test chain_vectors -- --nocapture print`.
#[test]
fn print_vectors() {
    let (model, events) = vectors();
    println!("model id: {}", model.id());
    for e in &events {
        println!(
            "canonical: {}\nhash: {}\njson line: {}",
            hash::canonical_text(e),
            e.hash,
            serde_json::to_string(e).unwrap()
        );
    }
}

const MODEL_ID: &str = "ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342";
const TEXT_1: &str = r#"{"action":"pay","actor":"Zoë \"Z\" \\ \n","delta":[["account",70],["paid",30]],"model":"ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342","multiple":30,"nonce":"000102030405060708090a0b0c0d0e0f","payload":"{\"ref\":\"inv-7\",\"amount\":123456789012345678901234567890,\"note\":\"\\u00e9 é 😀\"}","prev":"0000000000000000000000000000000000000000000000000000000000000000","roles":["auditor","clerk"],"root":"82c4f12ff441b58eed4d68c89f9f383aaea9ee232e145933b91e982b47431110","seq":1,"signer":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","stream":"book-1","ts":1700000000000,"v":2}"#;
const HASH_1: &str = "a5373a2f54fbdb0adcf5e22517695cd1cb329cb6a8a57a7d7be55917e7fa0e76";
const SIG_1: &str = "31ac9be6e5ff5c4d1ef7164aa7934015877e0f954978407a18900885a514f38feb8a8601b22330ba28c58c468292ec28ae3ad42ee888e4e5d838c028d62f2c0e";
const TEXT_2: &str = r#"{"action":"pay","actor":"","delta":[["account",65],["paid",35]],"model":"ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342","multiple":5,"nonce":"101112131415161718191a1b1c1d1e1f","payload":"null","prev":"a5373a2f54fbdb0adcf5e22517695cd1cb329cb6a8a57a7d7be55917e7fa0e76","roles":["*"],"root":"aecdc5ed674eaf314d91a9af6e34d0e3f686dbc14acc381cab03e6cd1f173efd","seq":2,"signer":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","stream":"book-1","ts":1700000000001,"v":2}"#;
const HASH_2: &str = "c2f141e395af7383ab7d1fe5dc949ca5fe9e83204f3904ca743263a7ee2ee56d";
const SIG_2: &str = "1578297328b6568c95d366689b9c8b7799371d673701ff7539e0233a97a86616105fcfdadc8f90ac862ed4ad973b61875e8e6aeda4351c8b33951658bf255708";

const PROOF_2: &str = r#"{"place":"paid","count":35,"index":1,"path":["9d8f4712f7c8606f2d1702ffeba9d7ea96cc01631d10362ff96785e96e6b4a75"]}"#;

const V1_HASH_1: &str = "2c472fd8e5bb279ed899cc5c762d4b782db97c367756b064ac5450726ced504f";
const V1_LINE_1: &str = r#"{"stream":"book-1","seq":1,"model":"ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342","action":"pay","multiple":30,"actor":"Zoë \"Z\" \\ \n","roles":["auditor","clerk"],"payload":"{\"ref\":\"inv-7\",\"amount\":123456789012345678901234567890,\"note\":\"\\u00e9 é 😀\"}","ts":1700000000000,"prev":"0000000000000000000000000000000000000000000000000000000000000000","state":[70,30],"hash":"2c472fd8e5bb279ed899cc5c762d4b782db97c367756b064ac5450726ced504f"}"#;
const V1_LINE_2: &str = r#"{"stream":"book-1","seq":2,"model":"ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342","action":"pay","multiple":5,"actor":"","roles":["*"],"payload":"null","ts":1700000000001,"prev":"2c472fd8e5bb279ed899cc5c762d4b782db97c367756b064ac5450726ced504f","state":[65,35],"hash":"00b90a8def752fdd4ff756413801ae3bc262d1fab0639d528b2345cff0fbbea3"}"#;

/// Stream `book-3` (docs/chain-format.md, "Signature runs"): one batch of
/// three `pay` by TEST 1, a signature run: only event 3 carries `sig`.
fn run_vectors() -> (petrichain::Model, Vec<Event>) {
    let (model, _) = import_json(NET).unwrap();
    let events = block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(test_device()));
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("book-3", &id).await.unwrap();
        let pay = |n: u64| Action::new("pay").multiple(n).roles(["clerk"]);
        ledger
            .fire_batch("book-3", &[pay(1), pay(2), pay(3)], 1_700_000_000_002)
            .await
            .unwrap();
        ledger.all_events("book-3").await.unwrap()
    });
    (model, events)
}

#[test]
fn the_documented_signature_run_holds_and_is_shown() {
    let (model, events) = run_vectors();
    let signed: Vec<bool> = events.iter().map(|e| !e.sig.is_empty()).collect();
    assert_eq!(signed, vec![false, false, true]);
    assert_eq!(verify_events(&model, "book-3", &events).unwrap().events, 3);
    let doc = include_str!("../../docs/chain-format.md");
    for e in &events {
        let line = serde_json::to_string(e).unwrap();
        assert!(
            doc.contains(&line),
            "docs/chain-format.md lacks the JSON line {line}"
        );
    }
    // Its run refused by a strict reader (a remote's), and when cut short.
    let mut strict = petrichain::chain::Verifier::new(&model, "book-3");
    assert_eq!(strict.push(&events[0]).unwrap_err().code(), "BAD_SIGNATURE");
    let err = verify_events(&model, "book-3", &events[..2]).unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(1)));
}

/// Prints the run vectors: `cargo test --test chain_vectors -- --nocapture print_run`.
#[test]
fn print_run_vectors() {
    for e in &run_vectors().1 {
        println!("json line: {}", serde_json::to_string(e).unwrap());
    }
}
