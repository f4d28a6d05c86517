//! Signer-bound parameters and constant keys through the append path and
//! the verifier: accounts keyed by their holders' public keys
//! (tests/models/owned-bank.json), where only the holder of `from` may
//! move its tokens, an append binds a left-out `from` to its device's key,
//! and a forged event (signed by one key, naming another as `from`) is
//! refused by replay.

use std::rc::Rc;

use petrichain::chain::{
    hash, signed_message, verify_events, Device, Event, SoftwareKey, TipState, Verifier,
};
use petrichain::engine::RoleSet;
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::Model;
use proptest::prelude::*;

const OWNED_BANK: &str = include_str!("../../tests/models/owned-bank.json");

fn bank() -> Model {
    import_json(OWNED_BANK).unwrap().0
}

fn key(seed: u8) -> SoftwareKey {
    SoftwareKey::from_seed(&[seed; 32])
}

fn hex_key(k: &SoftwareKey) -> String {
    hex::encode(k.public_key())
}

/// Alice's ledger after `mint`, her `open` and a transfer of 30 to Bob.
fn alices_chain() -> (Model, Vec<Event>) {
    let model = bank();
    let bob = hex_key(&key(2));
    let events = block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(key(1)));
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("bank", &id).await.unwrap();
        ledger
            .fire("bank", &Action::new("mint").roles(["banker"]), 1)
            .await
            .unwrap();
        // `user` and `from` are left out: the append binds them to Alice.
        ledger.fire("bank", &Action::new("open"), 2).await.unwrap();
        ledger
            .fire(
                "bank",
                &Action::new("transfer").arg("to", &bob).multiple(30),
                3,
            )
            .await
            .unwrap();
        // Naming Bob as `from` is refused before anything is written.
        let err = ledger
            .fire(
                "bank",
                &Action::new("transfer").arg("from", &bob).arg("to", "x"),
                4,
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "BAD_ARGUMENT");
        assert!(
            err.to_string()
                .contains("argument 'from' is bound to the signer"),
            "{err}"
        );
        ledger.all_events("bank").await.unwrap()
    });
    (model, events)
}

#[test]
fn appends_bind_left_out_signer_parameters_and_refuse_other_keys() {
    let (model, events) = alices_chain();
    let alice = hex_key(&key(1));
    let bob = hex_key(&key(2));
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].args, vec![("user".to_string(), alice.clone())]);
    assert_eq!(
        events[2].args,
        vec![
            ("from".to_string(), alice.clone()),
            ("to".to_string(), bob.clone())
        ]
    );
    // The constant key moves like any other key and is recorded.
    assert_eq!(
        events[1].keys,
        vec![
            ("balance".to_string(), alice.clone(), 100),
            ("balance".to_string(), "bank".to_string(), 900)
        ]
    );
    let verified = verify_events(&model, "bank", &events).unwrap();
    assert_eq!(verified.events, 3);
    assert_eq!(verified.marking, vec![1000]);
}

/// An event after `events` moving `amount` from `from` to `to`, with the
/// keys and root replay gives when the signer is `from`, but signed by
/// `device`.
fn transfer_signed_by(
    model: &Model,
    events: &[Event],
    from: &str,
    to: &str,
    amount: u64,
    device: &SoftwareKey,
) -> Event {
    let mut v = Verifier::new(model, "bank");
    for e in events {
        v.push(e).unwrap();
    }
    let mut state: TipState = v.state().clone();
    let args = vec![
        ("from".to_string(), from.to_string()),
        ("to".to_string(), to.to_string()),
    ];
    let (mut delta, mut keys) = (Vec::new(), Vec::new());
    let t = model.transition_index("transfer").unwrap();
    state
        .fire(
            model,
            t,
            amount,
            &RoleSet::none(),
            &args,
            from,
            &mut delta,
            &mut keys,
        )
        .unwrap();
    let last = events.last().unwrap();
    let places = model.places();
    let mut e = Event {
        seq: last.seq + 1,
        prev: last.hash.clone(),
        action: "transfer".into(),
        multiple: amount,
        args,
        roles: Vec::new(),
        nonce: "5".repeat(32),
        delta: delta
            .iter()
            .map(|&(p, n)| (places[p].id.clone(), n))
            .collect(),
        keys: keys
            .iter()
            .map(|(p, k, n)| (places[*p].id.clone(), k.clone(), *n))
            .collect(),
        root: state.root_hex(),
        signer: hex_key(device),
        hash: String::new(),
        sig: String::new(),
        ..last.clone()
    };
    e.hash = hash::event_hash(&e);
    e.sig = hex::encode(device.sign_now(&signed_message(&e.hash)));
    e
}

#[test]
fn the_verifier_refuses_a_forged_event_moving_another_keys_tokens() {
    let (model, events) = alices_chain();
    let (alice, bob) = (key(1), key(2));
    // Bob, holding 30, moves 10 of his own back: verifies.
    let honest = transfer_signed_by(&model, &events, &hex_key(&bob), &hex_key(&alice), 10, &bob);
    let mut chain = events.clone();
    chain.push(honest);
    assert_eq!(verify_events(&model, "bank", &chain).unwrap().events, 4);
    // Alice signs the same move of Bob's tokens: hash, signature, keys and
    // root are all consistent, and replay refuses it, naming the parameter.
    let forged = transfer_signed_by(
        &model,
        &events,
        &hex_key(&bob),
        &hex_key(&alice),
        10,
        &alice,
    );
    let mut chain = events.clone();
    chain.push(forged);
    let err = verify_events(&model, "bank", &chain).unwrap_err();
    assert_eq!(err.code(), "ACTION_REJECTED");
    assert_eq!(err.seq(), Some(4));
    let text = err.to_string();
    assert!(
        text.contains("argument 'from' is bound to the signer"),
        "{text}"
    );
    assert!(text.contains(&hex_key(&alice)), "{text}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Random transfers among holders, each signed by a random holder:
    /// one succeeds exactly when its signer is `from`, `from != to` and the
    /// balance covers it; tokens are never created or destroyed; a refusal
    /// changes neither the marking nor the root.
    #[test]
    fn signed_transfers_conserve_tokens_and_refusals_change_nothing(
        moves in proptest::collection::vec((0usize..4, 0usize..4, 0usize..4, 1u64..150), 1..40),
    ) {
        let model = bank();
        let holders: Vec<String> = (1..=4).map(|i| hex_key(&key(i))).collect();
        let mut state = TipState::new(&model, model.initial_marking());
        let (mut delta, mut keys) = (Vec::new(), Vec::new());
        let t = |id: &str| model.transition_index(id).unwrap();
        state.fire(&model, t("mint"), 1, &RoleSet::All, &[], "", &mut delta, &mut keys).unwrap();
        for h in &holders {
            let args = vec![("user".to_string(), h.clone())];
            state.fire(&model, t("open"), 1, &RoleSet::none(), &args, h, &mut delta, &mut keys).unwrap();
        }
        for (from, to, signer, amount) in moves {
            let (from, to, signer) = (&holders[from], &holders[to], &holders[signer]);
            let before = (state.marking().clone(), state.keyed().clone(), state.root_hex());
            let has = state.keyed().get(0, from);
            let args = vec![("from".to_string(), from.clone()), ("to".to_string(), to.clone())];
            let fired = state.fire(&model, t("transfer"), amount, &RoleSet::none(), &args, signer, &mut delta, &mut keys);
            let may = signer == from && from != to && has >= amount;
            prop_assert_eq!(fired.is_ok(), may, "{:?}", fired);
            if fired.is_err() {
                prop_assert_eq!(&(state.marking().clone(), state.keyed().clone(), state.root_hex()), &before);
            }
            let sum: u64 = state.keyed().iter(0).map(|(_, n)| n).sum();
            prop_assert_eq!(sum, 1000);
            prop_assert_eq!(state.marking().0[0], 1000);
        }
    }
}
