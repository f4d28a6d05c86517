//! Issue 13 through the ledger: grants, revocations and profiles made by
//! the append path, kept in the stored head, and resumed from it.

use std::rc::Rc;

use petrichain::chain::{SoftwareKey, TipState, Verifier};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Commit, Ledger, MemoryStore, Store, StreamRecord};

const SHOP: &str = r#"{"places":[{"id":"stock","initial":5},{"id":"sold"}],
  "transitions":[{"id":"sell","roles":["clerk"]},{"id":"restock","roles":["manager"]}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"},
          {"source":"restock","target":"stock"}]}"#;

fn payload(key: &str, role: &str) -> String {
    format!(r#"{{"key":"{key}","role":"{role}"}}"#)
}

#[test]
fn a_stored_head_keeps_the_policy_and_a_reopened_ledger_resumes_from_it() {
    block_on(async {
        let store = MemoryStore::new();
        let owner = Ledger::new(store.connect(), Rc::new(SoftwareKey::from_seed(&[1; 32])));
        let clerk = SoftwareKey::from_seed(&[2; 32]);
        let clerk_key = hex::encode(petrichain::chain::Device::public_key(&clerk));
        let model = import_json(SHOP).unwrap().0;
        let id = owner.put_model(&model).await.unwrap();
        owner.create_stream("till", &id).await.unwrap();
        owner
            .fire(
                "till",
                &Action::new("$grant").payload(payload(&clerk_key, "clerk")),
                1,
            )
            .await
            .unwrap();
        owner
            .fire(
                "till",
                &Action::new("$profile").payload(r#"{"name":"Owner"}"#),
                2,
            )
            .await
            .unwrap();
        let policy = owner.policy("till").await.unwrap();
        assert_eq!(policy.owner(), Some(owner.device_key().as_str()));

        // The head record carries the policy.
        let head = store.stream("till").await.unwrap().unwrap();
        assert_eq!(head.policy.as_ref(), Some(&policy));

        // The clerk's device, on the same store (another connection, no
        // cached tip), resumes from the stored head and may sell.
        let device = Ledger::new(store.connect(), Rc::new(clerk));
        assert_eq!(device.policy("till").await.unwrap(), policy);
        let sold = device
            .fire("till", &Action::new("sell").roles(["clerk"]), 3)
            .await
            .unwrap();
        assert_eq!((sold.seq, sold.signer.as_str()), (3, clerk_key.as_str()));
        let err = device
            .fire("till", &Action::new("restock").roles(["manager"]), 4)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ROLE_NOT_GRANTED");

        // The owner revokes; the device, resuming again, is refused.
        owner
            .fire(
                "till",
                &Action::new("$revoke").payload(payload(&clerk_key, "clerk")),
                5,
            )
            .await
            .unwrap();
        let err = device
            .fire("till", &Action::new("sell").roles(["clerk"]), 6)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ROLE_REVOKED");

        // A head written without a policy (an earlier release) is rebuilt
        // from the events, to the same policy.
        let before = owner.policy("till").await.unwrap();
        let mut bare: StreamRecord = store.stream("till").await.unwrap().unwrap();
        bare.policy = None;
        store
            .commit("till", &mut |_| {
                Ok(Commit {
                    record: bare.clone(),
                    events: Vec::new(),
                })
            })
            .await
            .unwrap();
        let fresh = Ledger::new(store.connect(), Rc::new(SoftwareKey::from_seed(&[3; 32])));
        assert_eq!(fresh.policy("till").await.unwrap(), before);
        assert_eq!(fresh.verify(Some("till")).await.unwrap()[0].events, 4);

        // A verifier resumed from the stored state decides as a replay.
        let state =
            TipState::new(&model, petrichain::Marking(bare.state.clone())).with_policy(before);
        let v = Verifier::resume_state(&model, "till", bare.seq, &bare.hash, state).unwrap();
        assert_eq!(v.state().policy().names()[&owner.device_key()], "Owner");
    });
}

#[test]
fn verify_finds_a_stored_policy_that_its_events_do_not_reach() {
    block_on(async {
        let store = MemoryStore::new();
        let owner = Ledger::new(store.connect(), Rc::new(SoftwareKey::from_seed(&[1; 32])));
        let model = import_json(SHOP).unwrap().0;
        let id = owner.put_model(&model).await.unwrap();
        owner.create_stream("till", &id).await.unwrap();
        owner
            .fire("till", &Action::new("sell").roles(["clerk"]), 1)
            .await
            .unwrap();
        assert_eq!(owner.verify(Some("till")).await.unwrap()[0].events, 1);
        // A head whose policy grants a key that no `$grant` names.
        let intruder = hex::encode(petrichain::chain::Device::public_key(
            &SoftwareKey::from_seed(&[9; 32]),
        ));
        let mut forged: StreamRecord = store.stream("till").await.unwrap().unwrap();
        let mut json: serde_json::Value =
            serde_json::to_value(forged.policy.as_ref().unwrap()).unwrap();
        json["grants"] = serde_json::json!({ intruder: ["clerk"] });
        forged.policy = Some(serde_json::from_value(json).unwrap());
        store
            .commit("till", &mut |_| {
                Ok(Commit {
                    record: forged.clone(),
                    events: Vec::new(),
                })
            })
            .await
            .unwrap();
        let fresh = Ledger::new(store.connect(), Rc::new(SoftwareKey::from_seed(&[3; 32])));
        let err = fresh.verify(Some("till")).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
    });
}
