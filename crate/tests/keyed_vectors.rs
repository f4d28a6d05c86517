//! The keyed-place test vectors of docs/chain-format.md ("Keyed places"),
//! pinned: the model id of a net with keyed places, the canonical encoding
//! of an event with `args` and `keys`, its hash, and the marking root with
//! a key trie under it.

use std::cell::Cell;
use std::rc::Rc;

use petrichain::chain::{
    hash, keyed_leaf_hash, leaf_hash, verify_events, ChainError, Device, DeviceFuture, Event,
    KeyTrie, SoftwareKey,
};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use sha2::{Digest, Sha256};

/// The net of the keyed vectors.
pub const NET: &str = r#"{"places":[{"id":"balance","keyed":true}],"transitions":[{"id":"open","params":["user"]},{"id":"transfer","params":["from","to"],"distinct":[["from","to"]]}],"arcs":[{"source":"open","target":"balance","key":"user","weight":100},{"source":"balance","target":"transfer","key":"from"},{"source":"transfer","target":"balance","key":"to"}]}"#;

const TEST_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// The RFC 8032 test key with nonces 000102..0f, 101112..1f, ...
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

fn vectors() -> (petrichain::Model, Vec<Event>) {
    let (model, _) = import_json(NET).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(TEST_SECRET, &mut seed).unwrap();
    let device = TestDevice {
        key: SoftwareKey::from_seed(&seed),
        next: Cell::new(0),
    };
    let events = block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(device));
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("bank-1", &id).await.unwrap();
        let actions = [
            Action::new("open").arg("user", "alice"),
            Action::new("open").arg("user", "bob"),
            Action::new("transfer")
                .arg("to", "bob")
                .arg("from", "alice")
                .multiple(30),
        ];
        ledger
            .fire_batch("bank-1", &actions, 1_700_000_000_000)
            .await
            .unwrap();
        ledger.all_events("bank-1").await.unwrap()
    });
    (model, events)
}

#[test]
fn the_documented_keyed_vectors_hold() {
    let (model, events) = vectors();
    assert_eq!(model.canonical_json(), CANONICAL);
    assert_eq!(model.id(), MODEL_ID);
    assert_eq!(hash::canonical_text(&events[2]), TEXT_3);
    assert_eq!(events[2].hash, HASH_3);
    assert_eq!(serde_json::to_string(&events[2]).unwrap(), LINE_3);
    verify_events(&model, "bank-1", &events).unwrap();
}

/// The root of event 3 from the layout alone: the key trie of
/// {alice: 70, bob: 130} under the keyed leaf of `balance`.
#[test]
fn the_keyed_root_follows_the_documented_layout() {
    let (_, events) = vectors();
    let (a, b) = (leaf_hash("alice", 70), leaf_hash("bob", 130));
    let path = |k: &str| -> [u8; 32] { Sha256::digest(k.as_bytes()).into() };
    let (pa, pb) = (path("alice"), path("bob"));
    let bit = |p: &[u8; 32], i: usize| p[i / 8] >> (7 - i % 8) & 1;
    let first = (0..256).find(|&i| bit(&pa, i) != bit(&pb, i)).unwrap();
    let (left, right) = if bit(&pa, first) == 0 { (a, b) } else { (b, a) };
    let mut h = Sha256::new();
    h.update([3u8]);
    h.update((first as u16).to_be_bytes());
    h.update(left);
    h.update(right);
    let keys: [u8; 32] = h.finalize().into();
    let trie = KeyTrie::from_counts([("alice", 70), ("bob", 130)]);
    assert_eq!(trie.root(), keys);
    assert_eq!(hex::encode(keys), KEYS_ROOT_3);
    // One place: the root is its (keyed) leaf.
    assert_eq!(
        hex::encode(keyed_leaf_hash("balance", &keys)),
        events[2].root
    );
    assert_eq!(events[2].root, ROOT_3);
}

#[test]
fn the_docs_show_the_keyed_vectors() {
    let doc = include_str!("../../docs/chain-format.md");
    for needle in [NET, MODEL_ID, TEXT_3, HASH_3, LINE_3, KEYS_ROOT_3, ROOT_3] {
        assert!(doc.contains(needle), "docs/chain-format.md lacks {needle}");
    }
    let doc = include_str!("../../docs/model-format.md");
    for needle in [CANONICAL, MODEL_ID] {
        assert!(doc.contains(needle), "docs/model-format.md lacks {needle}");
    }
}

/// Prints the vectors: `cargo test --test keyed_vectors -- --nocapture print`.
#[test]
fn print_keyed_vectors() {
    let (model, events) = vectors();
    println!(
        "canonical: {}\nmodel id: {}",
        model.canonical_json(),
        model.id()
    );
    let trie = KeyTrie::from_counts([("alice", 70), ("bob", 130)]);
    println!("keys root: {}", hex::encode(trie.root()));
    for e in &events {
        println!(
            "canonical: {}\nhash: {}\nroot: {}\njson line: {}",
            hash::canonical_text(e),
            e.hash,
            e.root,
            serde_json::to_string(e).unwrap()
        );
    }
}

const CANONICAL: &str = r#"{"arcs":[{"key":"from","kind":"normal","source":"balance","target":"transfer","weight":1},{"key":"user","kind":"normal","source":"open","target":"balance","weight":100},{"key":"to","kind":"normal","source":"transfer","target":"balance","weight":1}],"name":"","places":[{"capacity":0,"id":"balance","initial":0,"keyed":true,"label":"","x":0,"y":0}],"transitions":[{"id":"open","label":"","params":["user"],"roles":[],"x":0,"y":0},{"distinct":[["from","to"]],"id":"transfer","label":"","params":["from","to"],"roles":[],"x":0,"y":0}],"version":1}"#;
const MODEL_ID: &str = "254cc33ff86b3a711860f068e473808eeda6c42cc753908682b6cc6cc31ea5de";
const TEXT_3: &str = r#"{"action":"transfer","actor":"","args":[["from","alice"],["to","bob"]],"delta":[],"keys":[["balance","alice",70],["balance","bob",130]],"model":"254cc33ff86b3a711860f068e473808eeda6c42cc753908682b6cc6cc31ea5de","multiple":30,"nonce":"202122232425262728292a2b2c2d2e2f","payload":"null","prev":"2d38bb195fd508b0dfaef8724fae32329cfe8c1fa957ea54418a2adcfe0868ae","roles":[],"root":"fc57eacdbdd443e43f621b60fd1b626cc86618c1a5dc6802cfda3c16c7dcbf15","seq":3,"signer":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","stream":"bank-1","ts":1700000000000,"v":2}"#;
const HASH_3: &str = "26ede7bed862c0fa7891fed6dff6404c4078a30bc3d6ce747377b276c707f14e";
const LINE_3: &str = r#"{"v":2,"stream":"bank-1","seq":3,"model":"254cc33ff86b3a711860f068e473808eeda6c42cc753908682b6cc6cc31ea5de","action":"transfer","multiple":30,"actor":"","args":[["from","alice"],["to","bob"]],"roles":[],"payload":"null","ts":1700000000000,"nonce":"202122232425262728292a2b2c2d2e2f","prev":"2d38bb195fd508b0dfaef8724fae32329cfe8c1fa957ea54418a2adcfe0868ae","delta":[],"keys":[["balance","alice",70],["balance","bob",130]],"root":"fc57eacdbdd443e43f621b60fd1b626cc86618c1a5dc6802cfda3c16c7dcbf15","signer":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","hash":"26ede7bed862c0fa7891fed6dff6404c4078a30bc3d6ce747377b276c707f14e","sig":"82aed9fca9feeb1dcfee472abdf5db531a829ea6d5073250383afc2065edff25aa9ffc8554ac946a4c54592e51f1c52570eb56343789db27324e8aafdcb0ba05"}"#;
const KEYS_ROOT_3: &str = "d6f7e65817ef6a7e14a443122ececf1b6fa2895f99d13b46ba76f27999bb5133";
const ROOT_3: &str = "fc57eacdbdd443e43f621b60fd1b626cc86618c1a5dc6802cfda3c16c7dcbf15";

/// A net with a signer-bound parameter and a constant key
/// (docs/model-format.md, "Constant keys and the signer").
const SIGNER_NET: &str = r#"{"places":[{"id":"balance","keyed":true}],"transitions":[{"id":"open","params":["user"],"signer":["user"]}],"arcs":[{"source":"balance","target":"open","key":{"const":"bank"},"weight":100},{"source":"open","target":"balance","key":"user","weight":100}]}"#;
const SIGNER_CANONICAL: &str = r#"{"arcs":[{"key":{"const":"bank"},"kind":"normal","source":"balance","target":"open","weight":100},{"key":"user","kind":"normal","source":"open","target":"balance","weight":100}],"name":"","places":[{"capacity":0,"id":"balance","initial":0,"keyed":true,"label":"","x":0,"y":0}],"transitions":[{"id":"open","label":"","params":["user"],"roles":[],"signer":["user"],"x":0,"y":0}],"version":1}"#;
const SIGNER_MODEL_ID: &str = "0354b40c72623fa04e6cb3d050ea781f640fd9f51eda5a31eb2576b4b1130035";

#[test]
fn the_signer_and_constant_key_vector_holds_and_is_documented() {
    let (model, _) = import_json(SIGNER_NET).unwrap();
    assert_eq!(model.canonical_json(), SIGNER_CANONICAL);
    assert_eq!(model.id(), SIGNER_MODEL_ID);
    // The canonical JSON reads back to the same model.
    assert_eq!(
        import_json(SIGNER_CANONICAL).unwrap().0.id(),
        SIGNER_MODEL_ID
    );
    let doc = include_str!("../../docs/model-format.md");
    for needle in [SIGNER_NET, SIGNER_CANONICAL, SIGNER_MODEL_ID] {
        assert!(doc.contains(needle), "docs/model-format.md lacks {needle}");
    }
}

/// The key proofs of docs/chain-format.md ("Proofs of one key"): after
/// event 3, `balance[alice]` held 70 and `balance[carol]` nothing.
const PROOF_ALICE: &str = r#"{"place":"balance","key":"alice","count":70,"index":0,"trie":[[0,"aeee5c1768f3bb51053b5c79bdc3d390ab21afe2cfebad1f0dba5dd66825720d"]],"path":[]}"#;
const PROOF_CAROL: &str = r#"{"place":"balance","key":"carol","count":0,"index":0,"trie":[[0,"aeee5c1768f3bb51053b5c79bdc3d390ab21afe2cfebad1f0dba5dd66825720d"]],"nearest":["alice",70],"path":[]}"#;

#[test]
fn the_documented_key_proofs_hold() {
    let (model, events) = vectors();
    // (A batch: events 1 and 2 are a signature run closed by event 3.)
    let mut v = petrichain::chain::Verifier::new(&model, "bank-1").accept_runs();
    for e in &events {
        v.push(e).unwrap();
    }
    let alice = v.state().prove_key(&model, 0, "alice").unwrap();
    let carol = v.state().prove_key(&model, 0, "carol").unwrap();
    assert_eq!(serde_json::to_string(&alice).unwrap(), PROOF_ALICE);
    assert_eq!(serde_json::to_string(&carol).unwrap(), PROOF_CAROL);
    for text in [PROOF_ALICE, PROOF_CAROL] {
        let proof: petrichain::chain::KeyProof = serde_json::from_str(text).unwrap();
        assert!(proof.verify(ROOT_3), "{text}");
    }
    let doc = include_str!("../../docs/chain-format.md");
    for needle in [PROOF_ALICE, PROOF_CAROL] {
        assert!(doc.contains(needle), "docs/chain-format.md lacks {needle}");
    }
}
