//! Issue 13 in headless Chromium: `stream.grant`, `revoke`, `setProfile`,
//! `policy()` and `fingerprint` on IndexedDB ledgers, the policy kept in
//! the head record and read back after a reopen.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, JSON};
use petrichain_web::{fingerprint, JsModel};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

mod websync;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

const SHOP: &str = r#"{"places":[{"id":"stock","initial":3},{"id":"sold"}],
  "transitions":[{"id":"sell","roles":["clerk"]}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"}]}"#;

fn text(v: &JsValue) -> String {
    JSON::stringify(v).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn grants_revocations_and_profiles_persist_across_a_reopen() {
    let (owner_name, clerk_name) = (unique("grants-owner"), unique("grants-clerk"));
    let owner = open(&owner_name).await;
    let clerk = open(&clerk_name).await;
    let (ok_key, ck_key) = (owner.device_key(), clerk.device_key());
    let model = JsModel::from_json(SHOP.into()).unwrap();
    let id = ok(owner.put_model(&model)).await.as_string().unwrap();
    let till = stream_of(ok(owner.create_stream("till".into(), id)).await);

    let policy = ok(till.policy()).await;
    assert_eq!(get(&policy, "owner"), JsValue::NULL);
    assert_eq!(Array::from(&get(&policy, "members")).length(), 0);

    let e = ok(till.grant(ck_key.clone().into(), "clerk".into())).await;
    assert_eq!(get(&e, "action").as_string().as_deref(), Some("$grant"));
    assert_eq!(get(&e, "signer").as_string(), Some(ok_key.clone()));
    ok(till.set_profile("  Owner Ann ".into())).await;
    // Argument types and the chain's rules, as typed errors.
    rejects(
        till.grant(JsValue::from_f64(1.0), "clerk".into()),
        "BAD_ARGUMENT",
    )
    .await;
    let err = rejects(till.grant("AB".into(), "clerk".into()), "INVALID_EVENT").await;
    assert_eq!(get(&get(&err, "details"), "seq").as_f64(), Some(3.0));
    rejects(
        till.grant(ck_key.clone().into(), "nobody".into()),
        "INVALID_EVENT",
    )
    .await;
    rejects(till.set_profile("".into()), "INVALID_EVENT").await;
    rejects(
        till.revoke(ok_key.clone().into(), "clerk".into()),
        "INVALID_EVENT",
    )
    .await;

    let policy = ok(till.policy()).await;
    assert_eq!(get(&policy, "owner").as_string(), Some(ok_key.clone()));
    let members = Array::from(&get(&policy, "members"));
    assert_eq!(members.length(), 2);
    assert_eq!(text(&get(&members.get(0), "roles")), r#"["*"]"#);
    assert_eq!(
        get(&members.get(0), "name").as_string().as_deref(),
        Some("Owner Ann")
    );
    assert_eq!(
        get(&members.get(1), "key").as_string(),
        Some(ck_key.clone())
    );
    assert_eq!(text(&get(&members.get(1), "roles")), r#"["clerk"]"#);
    assert_eq!(get(&members.get(1), "admin").as_bool(), Some(false));

    // The clerk's device, given the chain, sells; the owner revokes.
    let export = ok(owner.export_jsonl("till".into()))
        .await
        .as_string()
        .unwrap();
    ok(clerk.import_jsonl(export)).await;
    let theirs = stream_of(ok(clerk.stream("till".into())).await);
    let opts: js_sys::Object = JSON::parse(r#"{"roles":["clerk"]}"#)
        .unwrap()
        .unchecked_into();
    let sold = ok(theirs.fire("sell".into(), Some(opts.clone()))).await;
    assert_eq!(get(&sold, "signer").as_string(), Some(ck_key.clone()));
    // It holds no `$admin`: it may not grant.
    let err = rejects(
        theirs.grant(ck_key.clone().into(), "clerk".into()),
        "ROLE_NOT_GRANTED",
    )
    .await;
    assert_eq!(
        get(&get(&err, "details"), "role").as_string().as_deref(),
        Some("$admin")
    );

    let export = ok(clerk.export_jsonl("till".into()))
        .await
        .as_string()
        .unwrap();
    ok(owner.import_jsonl(export)).await;
    let till = stream_of(ok(owner.stream("till".into())).await);
    let revoked = ok(till.revoke(ck_key.clone().into(), "clerk".into())).await;
    let at = get(&revoked, "seq").as_f64().unwrap();

    // Reopened, the owner's ledger reads the same policy back.
    let before = text(&ok(till.policy()).await);
    owner.close();
    let raw = petrichain_web::indexeddb::open_raw(&owner_name)
        .await
        .unwrap();
    let tx = raw
        .transaction(&["streams"], rexie::TransactionMode::ReadOnly)
        .unwrap();
    let head = tx
        .store("streams")
        .unwrap()
        .get("till".into())
        .await
        .unwrap()
        .unwrap();
    let stored = get(&head, "policy")
        .as_string()
        .expect("the head record keeps the policy");
    assert!(stored.contains(&ck_key), "{stored}");
    tx.done().await.unwrap();
    raw.close();
    let owner = open(&owner_name).await;
    let till = stream_of(ok(owner.stream("till".into())).await);
    let after = ok(till.policy()).await;
    assert_eq!(text(&after), before);
    let gone = Array::from(&get(&after, "revoked"));
    assert_eq!(gone.length(), 1);
    assert_eq!(get(&gone.get(0), "by").as_string(), Some(ok_key.clone()));
    assert_eq!(get(&gone.get(0), "seq").as_f64(), Some(at));

    // The revoked clerk, given the revocation, is refused with who and where.
    let export = ok(owner.export_jsonl("till".into()))
        .await
        .as_string()
        .unwrap();
    ok(clerk.import_jsonl(export)).await;
    let theirs = stream_of(ok(clerk.stream("till".into())).await);
    let err = rejects(theirs.fire("sell".into(), Some(opts)), "ROLE_REVOKED").await;
    let details = get(&err, "details");
    assert_eq!(get(&details, "by").as_string(), Some(ok_key.clone()));
    assert_eq!(get(&details, "at").as_f64(), Some(at));
    assert_eq!(get(&details, "key").as_string(), Some(ck_key.clone()));
    owner.close();
    clerk.close();
}

#[wasm_bindgen_test]
fn fingerprints_are_four_groups_of_four_hex_digits() {
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    assert_eq!(fingerprint(key).unwrap(), "21fe-31df-a154-a261");
    let err = fingerprint("nope").unwrap_err();
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("INVALID_INPUT")
    );
}
