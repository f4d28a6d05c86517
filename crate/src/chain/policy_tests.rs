use super::*;
use crate::chain::{
    sign_events, verify_events, Chainer, Draft, Head, SoftwareKey, TipState, Verifier,
};
use crate::formats::json::import_json;
use crate::store::block_on;
use proptest::prelude::*;

fn model() -> Model {
    import_json(
        r#"{"places":[{"id":"cash","initial":1000},{"id":"paid"}],
            "transitions":[{"id":"pay","roles":["clerk"]},{"id":"audit","roles":["auditor"]},{"id":"free"}],
            "arcs":[{"source":"cash","target":"pay"},{"source":"pay","target":"paid"},
                    {"source":"paid","target":"audit"},{"source":"audit","target":"cash"},
                    {"source":"cash","target":"free"},{"source":"free","target":"paid"}]}"#,
    )
    .unwrap()
    .0
}

fn key(n: u8) -> SoftwareKey {
    SoftwareKey::from_seed(&[n; 32])
}

fn hex_of(k: &SoftwareKey) -> String {
    hex::encode(crate::chain::Device::public_key(k))
}

/// A chain being written by several keys, each event checked by the
/// one append path.
struct Chain {
    model: Model,
    events: Vec<Event>,
    head: Head,
    state: TipState,
}

impl Chain {
    fn new() -> Self {
        let model = model();
        let state = TipState::new(&model, model.initial_marking());
        Chain {
            model,
            events: Vec::new(),
            head: Head::zero(),
            state,
        }
    }

    fn append(
        &mut self,
        k: &SoftwareKey,
        action: &str,
        roles: &[&str],
        payload: &str,
    ) -> Result<Event, ChainError> {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let mut c = Chainer::new(&self.model, "s", k, self.head.clone(), self.state.clone());
        let appended = c.append(Draft {
            action,
            multiple: 1,
            actor: "",
            roles: &roles,
            payload,
            args: &[],
            ts: 1,
            nonce: None,
        });
        let (head, state) = c.finish();
        match appended {
            Ok(mut e) => {
                block_on(sign_events(k, std::slice::from_mut(&mut e))).unwrap();
                self.head = head;
                self.state = state;
                self.events.push(e.clone());
                Ok(e)
            }
            Err(err) => {
                // A refusal changes nothing.
                assert_eq!((&head, &state), (&self.head, &self.state));
                Err(err)
            }
        }
    }

    fn grant(
        &mut self,
        by: &SoftwareKey,
        to: &SoftwareKey,
        role: &str,
    ) -> Result<Event, ChainError> {
        let p = format!(r#"{{"key":"{}","role":"{role}"}}"#, hex_of(to));
        self.append(by, GRANT, &[], &p)
    }

    fn revoke(
        &mut self,
        by: &SoftwareKey,
        to: &SoftwareKey,
        role: &str,
    ) -> Result<Event, ChainError> {
        let p = format!(r#"{{"key":"{}","role":"{role}"}}"#, hex_of(to));
        self.append(by, REVOKE, &[], &p)
    }

    /// `e`, as forged by `k` on the current tip: chained by a chainer
    /// whose policy grants `k` every role, so that the real one is bypassed.
    fn forge(&self, k: &SoftwareKey, action: &str, roles: &[&str], payload: &str) -> Event {
        self.try_forge(k, action, roles, payload).unwrap()
    }

    fn try_forge(
        &self,
        k: &SoftwareKey,
        action: &str,
        roles: &[&str],
        payload: &str,
    ) -> Result<Event, ChainError> {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let mut fake = self.state.policy().clone();
        fake.grants.insert(
            hex_of(k),
            ["*", ADMIN, "clerk", "auditor"].map(String::from).into(),
        );
        let state = self.state.clone().with_policy(fake);
        let mut c = Chainer::new(&self.model, "s", k, self.head.clone(), state);
        let mut e = c.append(Draft {
            action,
            multiple: 1,
            actor: "",
            roles: &roles,
            payload,
            args: &[],
            ts: 1,
            nonce: None,
        })?;
        block_on(sign_events(k, std::slice::from_mut(&mut e))).unwrap();
        Ok(e)
    }

    /// What the verifier says of `e` after the chain so far.
    fn verify_next(&self, e: &Event) -> Result<(), ChainError> {
        let mut v = Verifier::new(&self.model, "s");
        for old in &self.events {
            v.push(old).unwrap();
        }
        v.push(e)?;
        v.flush()
    }
}

#[test]
fn a_role_never_granted_is_refused_with_key_role_and_seq() {
    let (owner, b) = (key(1), key(2));
    let mut c = Chain::new();
    c.append(&owner, "pay", &["clerk"], "null").unwrap();
    let err = c.append(&b, "pay", &["clerk"], "null").unwrap_err();
    assert_eq!(
        err,
        ChainError::RoleNotGranted {
            stream: "s".into(),
            seq: 2,
            key: hex_of(&b),
            role: "clerk".into()
        }
    );
    // A role-free transition needs no grant.
    c.append(&b, "free", &[], "null").unwrap();
    // The verifier refuses the same event forged past the append path.
    let forged = c.forge(&b, "pay", &["clerk"], "null");
    let err = c.verify_next(&forged).unwrap_err();
    assert_eq!((err.code(), err.seq()), ("ROLE_NOT_GRANTED", Some(3)));
    let v: serde_json::Value = serde_json::to_value(&err).unwrap();
    assert_eq!(v["key"], hex_of(&b));
    assert_eq!(v["role"], "clerk");
}

#[test]
fn a_grant_lets_the_key_fire_and_only_with_that_role() {
    let (owner, b) = (key(1), key(2));
    let mut c = Chain::new();
    c.grant(&owner, &b, "clerk").unwrap();
    c.append(&b, "pay", &["clerk"], "null").unwrap();
    let err = c.append(&b, "audit", &["auditor"], "null").unwrap_err();
    assert_eq!(err.code(), "ROLE_NOT_GRANTED");
    // Claiming more roles than granted is refused too.
    assert_eq!(
        c.append(&b, "pay", &["auditor", "clerk"], "null")
            .unwrap_err()
            .code(),
        "ROLE_NOT_GRANTED"
    );
    assert_eq!(verify_events(&c.model, "s", &c.events).unwrap().events, 2);
}

#[test]
fn a_grant_by_a_key_that_may_not_grant_is_refused() {
    let (owner, b, d) = (key(1), key(2), key(3));
    let mut c = Chain::new();
    c.grant(&owner, &b, "clerk").unwrap();
    let err = c.grant(&b, &d, "clerk").unwrap_err();
    assert_eq!(
        err,
        ChainError::RoleNotGranted {
            stream: "s".into(),
            seq: 2,
            key: hex_of(&b),
            role: ADMIN.into()
        }
    );
    assert_eq!(
        c.revoke(&b, &b, "clerk").unwrap_err().code(),
        "ROLE_NOT_GRANTED"
    );
    let forged = c.forge(
        &b,
        GRANT,
        &[],
        &format!(r#"{{"key":"{}","role":"clerk"}}"#, hex_of(&d)),
    );
    assert_eq!(
        c.verify_next(&forged).unwrap_err().code(),
        "ROLE_NOT_GRANTED"
    );
}

#[test]
fn an_admin_grants_and_revokes_but_never_the_owner() {
    let (owner, b, d) = (key(1), key(2), key(3));
    let mut c = Chain::new();
    c.grant(&owner, &b, ADMIN).unwrap();
    c.grant(&b, &d, "clerk").unwrap();
    c.append(&d, "pay", &["clerk"], "null").unwrap();
    assert_eq!(
        c.revoke(&b, &owner, "clerk").unwrap_err().code(),
        "INVALID_EVENT"
    );
    assert_eq!(
        c.grant(&b, &owner, "clerk").unwrap_err().code(),
        "INVALID_EVENT"
    );
    // `$admin` is not a role of the model that `*` would hold.
    c.grant(&b, &d, "*").unwrap();
    assert_eq!(
        c.grant(&d, &b, "clerk").unwrap_err().code(),
        "ROLE_NOT_GRANTED"
    );
    let at = c.revoke(&owner, &b, ADMIN).unwrap().seq;
    let err = c.grant(&b, &d, "auditor").unwrap_err();
    assert_eq!(
        err,
        ChainError::RoleRevoked {
            stream: "s".into(),
            seq: at + 1,
            key: hex_of(&b),
            role: ADMIN.into(),
            by: hex_of(&owner),
            at
        }
    );
    assert!(c.state.policy().is_admin(&hex_of(&owner)));
    assert!(!c.state.policy().is_admin(&hex_of(&b)));
    verify_events(&c.model, "s", &c.events).unwrap();
}

#[test]
fn star_is_a_grant_like_any_other() {
    let (owner, b) = (key(1), key(2));
    let mut c = Chain::new();
    c.append(&owner, "pay", &["*"], "null").unwrap();
    let err = c.append(&b, "pay", &["*"], "null").unwrap_err();
    assert_eq!((err.code(), err.seq()), ("ROLE_NOT_GRANTED", Some(2)));
    c.grant(&owner, &b, "clerk").unwrap();
    assert_eq!(
        c.append(&b, "pay", &["*"], "null").unwrap_err().code(),
        "ROLE_NOT_GRANTED"
    );
    c.grant(&owner, &b, "*").unwrap();
    c.append(&b, "pay", &["*"], "null").unwrap();
    c.append(&b, "audit", &["auditor"], "null").unwrap();
    let forged = Chain::new().forge(&b, "pay", &["*"], "null");
    let mut fresh = Chain::new();
    fresh.append(&owner, "free", &[], "null").unwrap();
    let forged2 = fresh.forge(&b, "pay", &["*"], "null");
    assert_eq!(
        fresh.verify_next(&forged2).unwrap_err().code(),
        "ROLE_NOT_GRANTED"
    );
    // At seq 1 the signer is the owner: it may claim anything.
    assert!(Chain::new().verify_next(&forged).is_ok());
    verify_events(&c.model, "s", &c.events).unwrap();
}

#[test]
fn a_revoked_role_is_refused_with_who_revoked_it_and_where() {
    let (owner, b) = (key(1), key(2));
    let mut c = Chain::new();
    c.grant(&owner, &b, "clerk").unwrap();
    c.append(&b, "pay", &["clerk"], "null").unwrap();
    let at = c.revoke(&owner, &b, "clerk").unwrap().seq;
    let err = c.append(&b, "pay", &["clerk"], "null").unwrap_err();
    assert_eq!(
        err,
        ChainError::RoleRevoked {
            stream: "s".into(),
            seq: 4,
            key: hex_of(&b),
            role: "clerk".into(),
            by: hex_of(&owner),
            at
        }
    );
    let forged = c.forge(&b, "pay", &["clerk"], "null");
    assert_eq!(c.verify_next(&forged).unwrap_err(), err);
    let v: serde_json::Value = serde_json::to_value(&err).unwrap();
    assert_eq!(
        (v["by"].as_str(), v["at"].as_u64()),
        (Some(&*hex_of(&owner)), Some(at))
    );
    // Granted again, it may fire again; the revocation is gone.
    c.grant(&owner, &b, "clerk").unwrap();
    c.append(&b, "pay", &["clerk"], "null").unwrap();
    assert_eq!(c.state.policy().revoked().count(), 0);
    // A revoked `*` reports the claimed role, revoked.
    c.grant(&owner, &b, "*").unwrap();
    c.revoke(&owner, &b, "*").unwrap();
    assert_eq!(
        c.append(&b, "audit", &["auditor"], "null")
            .unwrap_err()
            .code(),
        "ROLE_REVOKED"
    );
    verify_events(&c.model, "s", &c.events).unwrap();
}

#[test]
fn profiles_name_their_signer_under_rules() {
    let (owner, b, d) = (key(1), key(2), key(3));
    let mut c = Chain::new();
    let name = |n: &str| serde_json::json!({ "name": n }).to_string();
    c.append(&owner, PROFILE, &[], &name("Ada Lovelace"))
        .unwrap();
    let err = c.append(&b, PROFILE, &[], &name("Bob")).unwrap_err();
    assert_eq!(
        err,
        ChainError::RoleNotGranted {
            stream: "s".into(),
            seq: 2,
            key: hex_of(&b),
            role: PROFILE.into()
        }
    );
    c.grant(&owner, &b, "clerk").unwrap();
    c.append(&b, PROFILE, &[], &name("Bob")).unwrap();
    for bad in ["", " Bob", "Bob ", "a\u{7}b", &"é".repeat(65)] {
        let e = c.append(&b, PROFILE, &[], &name(bad)).unwrap_err();
        assert_eq!(e.code(), "INVALID_EVENT", "{bad:?}");
    }
    c.append(&b, PROFILE, &[], &name(&"é".repeat(64))).unwrap();
    for bad in [
        r#"{"name":"x","extra":1}"#,
        r#"{"nom":"x"}"#,
        "null",
        r#""x""#,
    ] {
        assert_eq!(
            c.append(&b, PROFILE, &[], bad).unwrap_err().code(),
            "INVALID_EVENT"
        );
    }
    assert_eq!(c.state.policy().names()[&hex_of(&owner)], "Ada Lovelace");
    assert_eq!(c.state.policy().names()[&hex_of(&b)], "é".repeat(64));
    assert!(!c.state.policy().names().contains_key(&hex_of(&d)));
    // A profile changes no count; its root is the marking's.
    let last = c.events.last().unwrap();
    assert!(last.delta.is_empty());
    assert_eq!(last.root, c.events[0].root);
    verify_events(&c.model, "s", &c.events).unwrap();
}

#[test]
fn entry_payloads_and_shapes_are_strict() {
    let (owner, b) = (key(1), key(2));
    let mut c = Chain::new();
    let k = hex_of(&b);
    for bad in [
        format!(r#"{{"key":"{k}","role":"clerk","x":1}}"#),
        format!(r#"{{"key":"{}","role":"clerk"}}"#, k.to_uppercase()),
        format!(r#"{{"key":"{}","role":"clerk"}}"#, &k[..62]),
        format!(r#"{{"key":"{k}","role":"nobody"}}"#),
        format!(r#"{{"key":"{k}","role":"$root"}}"#),
        format!(r#"{{"key":"{k}"}}"#),
    ] {
        let e = c.append(&owner, GRANT, &[], &bad).unwrap_err();
        assert_eq!((e.code(), e.seq()), ("INVALID_EVENT", Some(1)), "{bad}");
    }
    let p = format!(r#"{{"key":"{k}","role":"clerk"}}"#);
    assert_eq!(
        c.append(&owner, GRANT, &["clerk"], &p).unwrap_err().code(),
        "INVALID_EVENT"
    );
    assert_eq!(
        c.append(&owner, "$grand", &[], &p).unwrap_err().code(),
        "ACTION_REJECTED"
    );
    // A grant forged with a changed count, or a moved root, is refused.
    c.append(&owner, "free", &[], "null").unwrap();
    let mut e = c.forge(&owner, GRANT, &[], &p);
    e.delta.push(("paid".into(), 7));
    e.hash = crate::chain::hash::event_hash(&e);
    block_on(sign_events(&owner, std::slice::from_mut(&mut e))).unwrap();
    assert_eq!(c.verify_next(&e).unwrap_err().code(), "INVALID_EVENT");
    let mut e = c.forge(&owner, GRANT, &[], &p);
    e.root = "0".repeat(64);
    e.hash = crate::chain::hash::event_hash(&e);
    block_on(sign_events(&owner, std::slice::from_mut(&mut e))).unwrap();
    assert_eq!(c.verify_next(&e).unwrap_err().code(), "COMMITMENT_MISMATCH");
    let e = c.forge(&owner, GRANT, &[], &p);
    c.verify_next(&e).unwrap();
}

#[test]
fn a_model_may_not_declare_reserved_names() {
    for bad in [
        r#"{"places":[],"transitions":[{"id":"$grant"}],"arcs":[]}"#,
        r#"{"places":[],"transitions":[{"id":"t","roles":["$admin"]}],"arcs":[]}"#,
    ] {
        let err = import_json(bad).unwrap_err();
        assert!(
            err.to_string().contains("kept for the chain's policy"),
            "{err}"
        );
    }
}

#[test]
fn the_policy_is_capped() {
    let mut p = Policy {
        owner: Some(hex_of(&key(1))),
        ..Policy::default()
    };
    for i in 0..MAX_POLICY_ENTRIES {
        p.names.insert(format!("{i:064x}"), "n".into());
    }
    let m = model();
    let owner = hex_of(&key(1));
    let payload = format!(r#"{{"key":"{}","role":"clerk"}}"#, hex_of(&key(2)));
    let err = p
        .admit(&m, "s", 2, &owner, GRANT, &[], 1, &[], &payload)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_EVENT");
    assert!(p
        .admit(&m, "s", 2, &owner, REVOKE, &[], 1, &[], &payload)
        .is_ok());
}

#[test]
fn a_stored_policy_round_trips_and_resumes() {
    let (owner, b) = (key(1), key(2));
    let mut c = Chain::new();
    c.grant(&owner, &b, "clerk").unwrap();
    c.append(&b, PROFILE, &[], r#"{"name":"Bob"}"#).unwrap();
    c.revoke(&owner, &b, "clerk").unwrap();
    c.grant(&owner, &b, "auditor").unwrap();
    let text = serde_json::to_string(c.state.policy()).unwrap();
    let back: Policy = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, c.state.policy());
    assert!(serde_json::from_str::<Policy>(r#"{"owner":"a","x":1}"#).is_err());
    // A verifier resumed with the stored policy decides as a full replay.
    let state = TipState::new(&c.model, c.state.marking().clone()).with_policy(back);
    let mut v = Verifier::resume_state(&c.model, "s", c.head.seq, &c.head.hash, state).unwrap();
    let e = c.forge(&b, "pay", &["clerk"], "null");
    assert_eq!(v.push(&e).unwrap_err().code(), "ROLE_REVOKED");
    // Without it (an empty policy), the check cannot hold: the grant is unknown.
    let bare = TipState::new(&c.model, c.state.marking().clone());
    let mut v = Verifier::resume_state(&c.model, "s", c.head.seq, &c.head.hash, bare).unwrap();
    let e = c.forge(&b, "pay", &["clerk"], "null");
    assert_eq!(v.push(&e).unwrap_err().code(), "ROLE_NOT_GRANTED");
}

#[test]
fn fingerprints_are_short_and_checked() {
    let f = fingerprint(&hex_of(&key(1))).unwrap();
    assert_eq!(f.len(), 19);
    assert_eq!(f.matches('-').count(), 3);
    assert_ne!(f, fingerprint(&hex_of(&key(2))).unwrap());
    assert_eq!(fingerprint("AB").unwrap_err().code(), "INVALID_INPUT");
}

#[derive(Debug, Clone)]
enum Op {
    Grant(usize, usize, usize),
    Revoke(usize, usize, usize),
    Fire(usize, usize),
    Profile(usize),
}

const ROLES: [&str; 4] = ["clerk", "auditor", "*", ADMIN];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..3usize, 0..4usize).prop_map(|(a, b, r)| Op::Grant(a, b, r)),
        (0..3usize, 0..3usize, 0..4usize).prop_map(|(a, b, r)| Op::Revoke(a, b, r)),
        (0..3usize, 0..3usize).prop_map(|(a, t)| Op::Fire(a, t)),
        (0..3usize).prop_map(Op::Profile),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random grants, revocations, firings and profiles by three keys: what
    /// the append path accepts verifies, what it refuses the verifier
    /// refuses with the same code, and a refusal changes nothing.
    #[test]
    fn the_verifier_and_the_chainer_agree(ops in proptest::collection::vec(op(), 1..40)) {
        let keys = [key(1), key(2), key(3)];
        let mut c = Chain::new();
        c.append(&keys[0], "free", &[], "null").unwrap();
        for op in ops {
            let (signer, action, roles, payload): (usize, &str, Vec<&str>, String) = match op {
                Op::Grant(a, b, r) | Op::Revoke(a, b, r) => (
                    a,
                    if matches!(op, Op::Grant(..)) { GRANT } else { REVOKE },
                    vec![],
                    format!(r#"{{"key":"{}","role":"{}"}}"#, hex_of(&keys[b]), ROLES[r]),
                ),
                Op::Fire(a, t) => {
                    let (action, role) = [("pay", "clerk"), ("audit", "auditor"), ("pay", "*")][t];
                    (a, action, vec![role], "null".into())
                }
                Op::Profile(a) => (a, PROFILE, vec![], r#"{"name":"k"}"#.into()),
            };
            let before = (c.head.clone(), c.state.clone());
            match c.append(&keys[signer], action, &roles, &payload) {
                Ok(_) => {}
                Err(err) => {
                    prop_assert_eq!(&(c.head.clone(), c.state.clone()), &before);
                    if matches!(err.code(), "ROLE_NOT_GRANTED" | "ROLE_REVOKED") {
                                        // (Unless even every grant would not do: a grant to the owner.)
                        if let Ok(forged) = c.try_forge(&keys[signer], action, &roles, &payload) {
                            let refused = c.verify_next(&forged).unwrap_err();
                            prop_assert_eq!(refused, err);
                        }
                    }
                }
            }
        }
        let mut v = Verifier::new(&c.model, "s");
        for e in &c.events {
            v.push(e).unwrap();
        }
        v.flush().unwrap();
        prop_assert_eq!(v.state(), &c.state);
    }
}

#[test]
fn the_view_lists_the_owner_then_the_members() {
    let (owner, b, d) = (key(1), key(2), key(3));
    let mut c = Chain::new();
    c.grant(&owner, &b, ADMIN).unwrap();
    c.grant(&owner, &b, "clerk").unwrap();
    c.grant(&b, &d, "auditor").unwrap();
    c.append(&d, PROFILE, &[], r#"{"name":"Dee"}"#).unwrap();
    c.revoke(&b, &d, "auditor").unwrap();
    let v = c.state.policy().view();
    assert_eq!(v.owner.as_deref(), Some(&*hex_of(&owner)));
    let keys: Vec<(&str, Vec<String>, bool)> = v
        .members
        .iter()
        .map(|m| (m.key.as_str(), m.roles.clone(), m.admin))
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], (&*hex_of(&owner), vec!["*".to_string()], true));
    assert_eq!(keys[1], (&*hex_of(&b), vec!["clerk".to_string()], true));
    assert_eq!(v.revoked.len(), 1);
    assert_eq!(
        (
            v.revoked[0].key.as_str(),
            v.revoked[0].role.as_str(),
            v.revoked[0].by.as_str(),
            v.revoked[0].seq
        ),
        (&*hex_of(&d), "auditor", &*hex_of(&b), 5)
    );
    assert_eq!(v.names[&hex_of(&d)], "Dee");
    let json = serde_json::to_value(&v).unwrap();
    assert!(json["members"][0].get("name").is_none());
}
