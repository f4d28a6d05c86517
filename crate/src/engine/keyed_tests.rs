//! Keyed places and parameterized transitions: binding, per-key rules,
//! conservation and refusal without change.

use proptest::prelude::*;

use super::*;
use crate::formats::json::import_json;

/// The Bank of the gallery: `open` gives a new user 100 (once), `transfer`
/// moves `multiple` from one registered user to another.
pub(crate) const BANK: &str = r#"{
  "name": "Bank",
  "places": [{"id": "balance", "keyed": true}, {"id": "registered", "keyed": true, "capacity": 1}],
  "transitions": [
    {"id": "open", "params": ["user"]},
    {"id": "transfer", "params": ["from", "to"], "distinct": [["from", "to"]]}
  ],
  "arcs": [
    {"source": "registered", "target": "open", "key": "user", "kind": "inhibitor"},
    {"source": "open", "target": "registered", "key": "user"},
    {"source": "open", "target": "balance", "key": "user", "weight": 100},
    {"source": "registered", "target": "transfer", "key": "to", "kind": "read"},
    {"source": "balance", "target": "transfer", "key": "from"},
    {"source": "transfer", "target": "balance", "key": "to"}
  ]
}"#;

fn bank() -> Model {
    import_json(BANK).unwrap().0
}

fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

struct State {
    m: Marking,
    k: KeyedMarking,
}

impl State {
    fn new(model: &Model) -> Self {
        State {
            m: model.initial_marking(),
            k: KeyedMarking::empty(model.places().len()),
        }
    }

    fn fire(
        &mut self,
        model: &Model,
        t: &str,
        multiple: u64,
        a: &[(&str, &str)],
    ) -> Result<Vec<KeyChange>, FireError> {
        let t = model.transition_index(t).unwrap();
        let mut changes = Vec::new();
        model.fire_keyed_in_place(
            &mut self.m,
            &mut self.k,
            t,
            multiple,
            &RoleSet::none(),
            &args(a),
            None,
            &mut changes,
        )?;
        Ok(changes)
    }
}

#[test]
fn opening_and_transferring_move_only_the_named_keys() {
    let model = bank();
    let mut s = State::new(&model);
    let changes = s.fire(&model, "open", 1, &[("user", "alice")]).unwrap();
    assert_eq!(
        changes,
        vec![(0, "alice".into(), 100), (1, "alice".into(), 1)]
    );
    s.fire(&model, "open", 1, &[("user", "bob")]).unwrap();
    let changes = s
        .fire(&model, "transfer", 30, &[("to", "bob"), ("from", "alice")])
        .unwrap();
    assert_eq!(
        changes,
        vec![(0, "alice".into(), 70), (0, "bob".into(), 130)]
    );
    // Totals: 200 in balance over 2 keys, 2 registered.
    assert_eq!(s.m.0, vec![200, 2]);
    assert_eq!(s.k.len(0), 2);
    assert_eq!(s.k.get(0, "carol"), 0);
}

#[test]
fn refusals_name_the_key_and_change_nothing() {
    let model = bank();
    let mut s = State::new(&model);
    s.fire(&model, "open", 1, &[("user", "alice")]).unwrap();
    s.fire(&model, "open", 1, &[("user", "bob")]).unwrap();
    s.fire(&model, "transfer", 80, &[("from", "alice"), ("to", "bob")])
        .unwrap();
    let before = (s.m.clone(), s.k.clone());
    let err = s
        .fire(&model, "transfer", 30, &[("from", "alice"), ("to", "bob")])
        .unwrap_err();
    assert_eq!(err.code(), "NOT_ENABLED");
    assert_eq!(
        err.to_string(),
        "'transfer' is not enabled: place 'balance[alice]' has 20 token(s), needs 30"
    );
    type Case<'a> = (&'a str, u64, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "transfer",
            1,
            vec![("from", "alice")],
            "BAD_ARGUMENT",
            "'to'",
        ),
        (
            "transfer",
            1,
            vec![("from", "alice"), ("to", "bob"), ("x", "y")],
            "BAD_ARGUMENT",
            "'x'",
        ),
        (
            "transfer",
            1,
            vec![("from", "alice"), ("from", "bob")],
            "BAD_ARGUMENT",
            "twice",
        ),
        (
            "transfer",
            1,
            vec![("from", "alice"), ("to", "alice")],
            "BAD_ARGUMENT",
            "must differ",
        ),
        (
            "transfer",
            1,
            vec![("from", ""), ("to", "bob")],
            "BAD_ARGUMENT",
            "1 to 256 bytes",
        ),
        // carol never opened an account: the read arc refuses.
        (
            "transfer",
            1,
            vec![("from", "alice"), ("to", "carol")],
            "READ_ARC_UNMET",
            "registered[carol]",
        ),
        // alice is open already: the inhibitor refuses.
        (
            "open",
            1,
            vec![("user", "alice")],
            "INHIBITED",
            "registered[alice]",
        ),
        (
            "transfer",
            0,
            vec![("from", "alice"), ("to", "bob")],
            "INVALID_MULTIPLE",
            "multiple",
        ),
        (
            "transfer",
            u64::MAX,
            vec![("from", "alice"), ("to", "bob")],
            "NOT_ENABLED",
            "balance[alice]",
        ),
    ];
    for (t, k, a, code, says) in cases {
        let err = s.fire(&model, t, k, &a).unwrap_err();
        assert_eq!(err.code(), code, "{t} {a:?}: {err}");
        assert!(err.to_string().contains(says), "{err}");
        assert_eq!(
            (s.m.clone(), s.k.clone()),
            before,
            "{t} {a:?} changed the marking"
        );
    }
    let long = "k".repeat(crate::MAX_KEY_BYTES + 1);
    let err = s
        .fire(&model, "open", 1, &[("user", long.as_str())])
        .unwrap_err();
    assert_eq!(err.code(), "BAD_ARGUMENT");
    // The plain path has no arguments: a transition with parameters is
    // refused there, and never listed as enabled.
    let err = model
        .fire(&s.m, "open", &FireOptions::default())
        .unwrap_err();
    assert_eq!(err.to_string(), "'open': argument 'user' is missing");
    assert!(model.enabled(&s.m, &RoleSet::All).is_empty());
}

#[test]
fn capacity_applies_per_key() {
    let model = bank();
    let mut s = State::new(&model);
    s.fire(&model, "open", 1, &[("user", "a")]).unwrap();
    // registered has capacity 1 per key; a second key is fine.
    s.fire(&model, "open", 1, &[("user", "b")]).unwrap();
    assert_eq!(s.m.0[1], 2);
}

#[test]
fn two_parameters_bound_to_one_key_act_together() {
    // No distinct constraint: a transfer to oneself consumes, then produces.
    let (model, _) = import_json(
        r#"{"places":[{"id":"b","keyed":true}],
            "transitions":[{"id":"give","params":["u"]},{"id":"move","params":["from","to"]}],
            "arcs":[{"source":"give","target":"b","key":"u","weight":5},
                    {"source":"b","target":"move","key":"from","weight":5},
                    {"source":"move","target":"b","key":"to","weight":5}]}"#,
    )
    .unwrap();
    let mut s = State::new(&model);
    s.fire(&model, "give", 1, &[("u", "x")]).unwrap();
    let changes = s
        .fire(&model, "move", 1, &[("from", "x"), ("to", "x")])
        .unwrap();
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!((s.k.get(0, "x"), s.m.0[0]), (5, 5));
    let err = s
        .fire(&model, "move", 2, &[("from", "x"), ("to", "x")])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'move' is not enabled: place 'b[x]' has 5 token(s), needs 10"
    );
}

#[test]
fn pages_of_keys_are_in_order() {
    let model = bank();
    let mut s = State::new(&model);
    for u in ["dave", "alice", "carol", "bob"] {
        s.fire(&model, "open", 1, &[("user", u)]).unwrap();
    }
    let page = s.k.page(0, None, 2);
    assert_eq!(page, vec![("alice".into(), 100), ("bob".into(), 100)]);
    let page = s.k.page(0, Some("bob"), 10);
    assert_eq!(page, vec![("carol".into(), 100), ("dave".into(), 100)]);
    assert!(s.k.page(0, Some("dave"), 10).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random transfers never create or destroy tokens, and a refused one
    /// never changes the marking.
    #[test]
    fn transfers_conserve_tokens_and_refusals_change_nothing(
        users in 2usize..8,
        moves in proptest::collection::vec((0usize..8, 0usize..8, 1u64..150), 1..60),
    ) {
        let model = bank();
        let mut s = State::new(&model);
        let name = |i: usize| format!("u{i}");
        for u in 0..users {
            s.fire(&model, "open", 1, &[("user", &name(u))]).unwrap();
        }
        let opened = 100 * users as u64;
        for (from, to, amount) in moves {
            let (from, to) = (name(from % users), name(to % users));
            let before = (s.m.clone(), s.k.clone());
            let has = s.k.get(0, &from);
            match s.fire(&model, "transfer", amount, &[("from", &from), ("to", &to)]) {
                Ok(_) => prop_assert!(from != to && has >= amount),
                Err(e) => {
                    prop_assert!(from == to || has < amount, "{e}");
                    prop_assert_eq!(&(s.m.clone(), s.k.clone()), &before);
                }
            }
            let sum: u64 = s.k.iter(0).map(|(_, n)| n).sum();
            prop_assert_eq!(sum, opened);
            prop_assert_eq!(s.m.0[0], opened);
        }
    }
}

/// A bank whose accounts are keyed by their holders' public keys: `open`
/// and `transfer` bind `user` / `from` to the signer, and opening draws
/// 100 from the constant key `balance["bank"]`, which `mint` fills.
pub(crate) const OWNED_BANK: &str = include_str!("../../../tests/models/owned-bank.json");

const ALICE: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const BOB: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

impl State {
    fn fire_as(
        &mut self,
        model: &Model,
        t: &str,
        multiple: u64,
        a: &[(&str, &str)],
        signer: Option<&str>,
    ) -> Result<Vec<KeyChange>, FireError> {
        let t = model.transition_index(t).unwrap();
        let mut changes = Vec::new();
        model.fire_keyed_in_place(
            &mut self.m,
            &mut self.k,
            t,
            multiple,
            &RoleSet::All,
            &args(a),
            signer,
            &mut changes,
        )?;
        Ok(changes)
    }
}

#[test]
fn constant_keys_act_on_their_key_whatever_the_arguments() {
    let model = import_json(OWNED_BANK).unwrap().0;
    let mut s = State::new(&model);
    // The reserve is empty: opening names the constant key.
    let err = s
        .fire_as(&model, "open", 1, &[("user", ALICE)], Some(ALICE))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'open' is not enabled: place 'balance[bank]' has 0 token(s), needs 100"
    );
    let changes = s.fire_as(&model, "mint", 1, &[], None).unwrap();
    assert_eq!(changes, vec![(0, "bank".into(), 1000)]);
    let changes = s
        .fire_as(&model, "open", 1, &[("user", ALICE)], Some(ALICE))
        .unwrap();
    assert_eq!(
        changes,
        vec![(0, ALICE.into(), 100), (0, "bank".into(), 900)]
    );
    assert_eq!(s.m.0[0], 1000);
    // `mint` has no parameters, but touches a keyed place: the plain path
    // cannot fire it and never lists it as enabled.
    let err = model
        .fire(
            &s.m,
            "mint",
            &FireOptions {
                multiple: 1,
                roles: &["*"],
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_ARGUMENT");
    assert!(err.to_string().contains("keyed"), "{err}");
    assert!(model.enabled(&s.m, &RoleSet::All).is_empty());
    // A constant key and a parameter bound to the same key act together.
    let err = s
        .fire_as(&model, "open", 10, &[("user", "bank")], Some("bank"))
        .unwrap_err();
    assert_eq!(err.code(), "NOT_ENABLED");
    let changes = s
        .fire_as(&model, "open", 1, &[("user", "bank")], Some("bank"))
        .unwrap();
    assert!(changes.is_empty(), "{changes:?}");
}

#[test]
fn signer_bound_parameters_must_be_the_signer() {
    let model = import_json(OWNED_BANK).unwrap().0;
    let mut s = State::new(&model);
    s.fire_as(&model, "mint", 1, &[], None).unwrap();
    for user in [ALICE, BOB] {
        s.fire_as(&model, "open", 1, &[("user", user)], Some(user))
            .unwrap();
    }
    // Alice moves her own tokens.
    s.fire_as(
        &model,
        "transfer",
        30,
        &[("from", ALICE), ("to", BOB)],
        Some(ALICE),
    )
    .unwrap();
    let before = (s.m.clone(), s.k.clone());
    // Bob may not move Alice's, nor may anyone without a signer.
    let err = s
        .fire_as(
            &model,
            "transfer",
            1,
            &[("from", ALICE), ("to", BOB)],
            Some(BOB),
        )
        .unwrap_err();
    assert_eq!(err.code(), "BAD_ARGUMENT");
    assert_eq!(
        err.to_string(),
        format!("'transfer': argument 'from' is bound to the signer: it must be the signing device's key {BOB}, not '{ALICE}'")
    );
    let err = s
        .fire_as(&model, "transfer", 1, &[("from", ALICE), ("to", BOB)], None)
        .unwrap_err();
    assert_eq!(err.code(), "BAD_ARGUMENT");
    assert!(
        err.to_string()
            .contains("argument 'from' is bound to the signer"),
        "{err}"
    );
    // `to` is not bound: anyone may be paid.
    assert_eq!((s.m.clone(), s.k.clone()), before);
    assert_eq!((s.k.get(0, ALICE), s.k.get(0, BOB)), (70, 130));
    // The checks come after binding: a missing argument is still missing.
    let err = s
        .fire_as(&model, "transfer", 1, &[("to", BOB)], Some(ALICE))
        .unwrap_err();
    assert_eq!(err.to_string(), "'transfer': argument 'from' is missing");
}

#[test]
fn constant_keys_and_signer_lists_are_validated_with_their_element() {
    let problems = |net: &str| -> Vec<String> {
        match import_json(net) {
            Err(crate::formats::ImportError::Invalid(e)) => {
                e.problems.iter().map(|p| p.to_string()).collect()
            }
            other => panic!("expected an invalid model, got {other:?}"),
        }
    };
    let long = "k".repeat(crate::MAX_KEY_BYTES + 1);
    let found = problems(&format!(
        r#"{{"places":[{{"id":"b","keyed":true}},{{"id":"p"}}],
            "transitions":[{{"id":"t","params":["u"],"signer":["u","u","v"]}}],
            "arcs":[{{"source":"t","target":"b","key":{{"const":""}}}},
                    {{"source":"b","target":"t","key":{{"const":"{long}"}}}},
                    {{"source":"t","target":"p","key":{{"const":"x"}}}}]}}"#
    ));
    assert_eq!(
        found,
        vec![
            "t: parameter 'u' is invalid (1-64 ASCII letters, digits, '_' or '-', unique, at most 16 per transition, a distinct pair names two)".to_string(),
            "t: names parameter 'v', which its transition does not declare".into(),
            "arc t->b: constant key \"\" must be 1 to 256 bytes".into(),
            "arc b->t: constant key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\" must be 1 to 256 bytes".into(),
            "arc t->p: its place is not keyed, the arc must not name a key".into(),
        ]
    );
    // A key that is neither a name nor {"const": ...} is a bad value.
    let err = import_json(
        r#"{"places":[{"id":"b","keyed":true}],"transitions":[{"id":"t"}],
            "arcs":[{"source":"t","target":"b","key":{"constant":"x"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "BAD_VALUE");
    assert!(err.to_string().contains("{\"const\": key}"), "{err}");
}
