//! Issue 13: a server with authentication on. Each test starts a real
//! `petrichain-server` process on 127.0.0.1:0 with an operator credentials
//! file and talks HTTP to it: 401 without a credential, device sign-in by
//! a signed challenge, per-stream access (owner and signers), operator
//! tokens and BasicAuth, the safe default on a non-loopback address, and
//! secrets kept out of the log.

#[macro_use]
mod common;

use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use petrichain::chain::{Device, Event, SoftwareKey};
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::sync::protocol::{Head, StreamList};
use petrichain_server::auth::operators::digest;
use petrichain_server::auth::sessions::auth_message;

const OPERATOR_TOKEN: &str = "op-token-5f1c2a9e7b";
const BASIC_PASSWORD: &str = "b4sic/pass?word";

/// An operator credentials file in `dir`: token `ci`, user `alice`.
fn credentials(dir: &TempDir) -> String {
    let path = dir.path("credentials");
    std::fs::write(
        &path,
        format!(
            "# test operators\ntoken ci sha256:{}\nuser alice sha256:{}\n",
            hex::encode(digest(OPERATOR_TOKEN.as_bytes())),
            hex::encode(digest(BASIC_PASSWORD.as_bytes()))
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn start(backend: &Backend, extra: &[&str]) -> Server {
    let file = credentials(&backend.dir);
    let mut args = vec!["--auth-file", file.as_str()];
    args.extend_from_slice(extra);
    backend.start(&args)
}

/// Events of `stream` signed by the key of `seed`.
fn chain_by(seed: [u8; 32], stream: &str, actions: &[Action]) -> Vec<Event> {
    let model = model();
    block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(SoftwareKey::from_seed(&seed)));
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream(stream, &id).await.unwrap();
        for (i, a) in actions.iter().enumerate() {
            ledger
                .fire(stream, a, 1_700_000_000_000 + i as u64)
                .await
                .unwrap();
        }
        ledger.all_events(stream).await.unwrap()
    })
}

/// The seeds of the two test keys.
const ALICE: [u8; 32] = DEVICE_SEED;
const BOB: [u8; 32] = [9; 32];

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn send(
    c: &mut Client,
    method: &str,
    target: &str,
    auth: Option<&str>,
    body: Option<&[u8]>,
) -> Response {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    c.request(method, target, &headers, body).unwrap()
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Signs in with `key` through the challenge; the bearer token.
fn sign_in(c: &mut Client, key: &SoftwareKey) -> String {
    let r = send(c, "POST", &v2("/auth/challenge"), None, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let challenge: serde_json::Value = r.json().unwrap();
    let nonce = challenge["nonce"].as_str().unwrap().to_string();
    assert_eq!(challenge["context"], "petrichain:auth:v1:");
    let sig = hex::encode(key.sign_now(&auth_message(&nonce)));
    let body = serde_json::json!({
        "key": hex::encode(key.public_key()),
        "nonce": nonce,
        "sig": sig,
    });
    let r = send(c, "POST", &v2("/auth/token"), None, Some(&json(&body)));
    assert_eq!(r.status, 200, "{}", r.text());
    let answer: serde_json::Value = r.json().unwrap();
    assert_eq!(answer["key"], hex::encode(key.public_key()));
    answer["token"].as_str().unwrap().to_string()
}

fn push(
    c: &mut Client,
    auth: Option<&str>,
    stream: &str,
    expected: Head,
    events: &[Event],
) -> Response {
    let req = request(&model(), expected, events);
    send(
        c,
        "POST",
        &v2(&format!("/streams/{stream}/events")),
        auth,
        Some(&json(&req)),
    )
}

fn put_model_as(c: &mut Client, auth: &str) {
    let m = model();
    let r = send(
        c,
        "PUT",
        &v2(&format!("/models/{}", m.id())),
        Some(auth),
        Some(&json(&model_doc(&m))),
    );
    assert!(r.status == 201 || r.status == 200, "{}", r.text());
}

fn listed(c: &mut Client, auth: &str) -> Vec<String> {
    let r = send(c, "GET", &v2("/streams"), Some(auth), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let list: StreamList = r.json().unwrap();
    list.streams.into_iter().map(|s| s.id).collect()
}

fn no_credentials_is_401_with_a_challenge(backend: &Backend) {
    let server = start(backend, &[]);
    let mut c = server.client();
    for (method, target) in [
        ("GET", v2("/streams")),
        ("GET", v2("/streams/s/events")),
        ("GET", v2("/streams/s/live")),
        ("GET", v2(&format!("/models/{}", model().id()))),
    ] {
        let r = send(&mut c, method, &target, None, None);
        assert_eq!(r.status, 401, "{method} {target}: {}", r.text());
        assert_eq!(error(&r).code, "UNAUTHENTICATED");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"petrichain\"")
        );
    }
    let r = push(
        &mut c,
        None,
        "s",
        Head::zero(),
        &chain(&model(), "s", &ticks(1)),
    );
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (401, "UNAUTHENTICATED")
    );
    let m = model();
    let r = send(
        &mut c,
        "PUT",
        &v2(&format!("/models/{}", m.id())),
        None,
        Some(&json(&model_doc(&m))),
    );
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (401, "UNAUTHENTICATED"),
        "model uploads need a writer"
    );
}

fn unknown_and_expired_tokens_are_401(backend: &Backend) {
    let server = start(backend, &[]);
    let mut c = server.client();
    for bad in ["Bearer not-a-token", "Basic YWxpY2U6d3Jvbmc=", "Token x"] {
        let r = send(&mut c, "GET", &v2("/streams"), Some(bad), None);
        assert_eq!(
            (r.status, error(&r).code.as_str()),
            (401, "UNAUTHENTICATED"),
            "{bad}"
        );
    }
    // A token past its --token-ttl.
    drop(server);
    let server = start(backend, &["--token-ttl", "1"]);
    let mut c = server.client();
    let token = bearer(&sign_in(&mut c, &device_key()));
    assert_eq!(
        send(&mut c, "GET", &v2("/streams"), Some(&token), None).status,
        200
    );
    std::thread::sleep(Duration::from_millis(1100));
    let r = send(&mut c, "GET", &v2("/streams"), Some(&token), None);
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (401, "UNAUTHENTICATED"),
        "expired"
    );
    // A used challenge cannot buy a second token.
    let r = send(&mut c, "POST", &v2("/auth/challenge"), None, None);
    let nonce = r.json::<serde_json::Value>().unwrap()["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    let key = device_key();
    let body = serde_json::json!({
        "key": hex::encode(key.public_key()),
        "nonce": nonce,
        "sig": hex::encode(key.sign_now(&auth_message(&nonce))),
    });
    assert_eq!(
        send(&mut c, "POST", &v2("/auth/token"), None, Some(&json(&body))).status,
        200
    );
    let again = send(&mut c, "POST", &v2("/auth/token"), None, Some(&json(&body)));
    assert_eq!(
        (again.status, error(&again).code.as_str()),
        (401, "UNAUTHENTICATED")
    );
    // A signature by another key over the same challenge: refused.
    let r = send(&mut c, "POST", &v2("/auth/challenge"), None, None);
    let nonce = r.json::<serde_json::Value>().unwrap()["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = serde_json::json!({
        "key": hex::encode(key.public_key()),
        "nonce": nonce,
        "sig": hex::encode(other_key().sign_now(&auth_message(&nonce))),
    });
    let r = send(
        &mut c,
        "POST",
        &v2("/auth/token"),
        None,
        Some(&json(&forged)),
    );
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (401, "UNAUTHENTICATED")
    );
}

fn keys_read_and_append_only_their_streams(backend: &Backend) {
    let server = start(backend, &[]);
    let mut c = server.client();
    let (alice, bob) = (device_key(), other_key());
    let alice_token = bearer(&sign_in(&mut c, &alice));
    let bob_token = bearer(&sign_in(&mut c, &bob));
    put_model_as(&mut c, &alice_token);

    // Alice creates her stream: she is its owner.
    let events = chain_by(ALICE, "alice-private", &ticks(3));
    let r = push(
        &mut c,
        Some(&alice_token),
        "alice-private",
        Head::zero(),
        &events[..2],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        &mut c,
        "GET",
        &v2("/streams/alice-private/events"),
        Some(&alice_token),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Bob may not read, follow, list or append to it.
    let r = send(
        &mut c,
        "GET",
        &v2("/streams/alice-private/events"),
        Some(&bob_token),
        None,
    );
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (403, "FORBIDDEN"),
        "{}",
        r.text()
    );
    let r = send(
        &mut c,
        "GET",
        &v2("/streams/alice-private/live"),
        Some(&bob_token),
        None,
    );
    assert_eq!((r.status, error(&r).code.as_str()), (403, "FORBIDDEN"));
    assert_eq!(
        listed(&mut c, &alice_token),
        vec!["alice-private".to_string()]
    );
    assert!(
        listed(&mut c, &bob_token).is_empty(),
        "a private stream is not listed to others"
    );
    let bob_chain = chain_by(BOB, "alice-private", &ticks(3));
    let r = push(
        &mut c,
        Some(&bob_token),
        "alice-private",
        head_of(&events[1]),
        &bob_chain[2..],
    );
    assert_eq!((r.status, error(&r).code.as_str()), (403, "FORBIDDEN"));

    // Bob may not push events signed by Alice, even to a new stream.
    let alice_new = chain_by(ALICE, "fresh", &ticks(1));
    let r = push(&mut c, Some(&bob_token), "fresh", Head::zero(), &alice_new);
    assert_eq!((r.status, error(&r).code.as_str()), (403, "FORBIDDEN"));
    assert!(error(&r).message.contains("signed by"), "{}", r.text());
    // His own stream works, and he sees only it.
    let bob_own = chain_by(BOB, "bob-stream", &ticks(1));
    assert_eq!(
        push(
            &mut c,
            Some(&bob_token),
            "bob-stream",
            Head::zero(),
            &bob_own
        )
        .status,
        200
    );
    assert_eq!(listed(&mut c, &bob_token), vec!["bob-stream".to_string()]);

    // The operator token and the BasicAuth user read and list everything.
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{BASIC_PASSWORD}"))
    );
    for op in [bearer(OPERATOR_TOKEN), basic] {
        assert_eq!(
            listed(&mut c, &op),
            vec!["alice-private".to_string(), "bob-stream".to_string()]
        );
        let r = send(
            &mut c,
            "GET",
            &v2("/streams/alice-private/events"),
            Some(&op),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // An operator may append events of any signer.
    let more = &events;
    let r = push(
        &mut c,
        Some(&bearer(OPERATOR_TOKEN)),
        "alice-private",
        head_of(&events[1]),
        &more[2..],
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

fn public_read_opens_reads_not_writes(backend: &Backend) {
    let server = start(backend, &["--public-read"]);
    let mut c = server.client();
    let token = bearer(&sign_in(&mut c, &device_key()));
    put_model_as(&mut c, &token);
    let events = chain_by(ALICE, "open", &ticks(1));
    assert_eq!(
        push(&mut c, Some(&token), "open", Head::zero(), &events).status,
        200
    );
    let r = send(&mut c, "GET", &v2("/streams/open/events"), None, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let more = chain_by(ALICE, "open", &ticks(2));
    let r = push(&mut c, None, "open", head_of(&events[0]), &more[1..]);
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (401, "UNAUTHENTICATED")
    );
}

fn secrets_stay_out_of_the_log(backend: &Backend) {
    let server = start(backend, &[]);
    let mut c = server.client();
    let device_token = sign_in(&mut c, &device_key());
    let basic_good =
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{BASIC_PASSWORD}"));
    let basic_bad = base64::engine::general_purpose::STANDARD.encode("alice:wr0ng/pass?x");
    for auth in [
        bearer(OPERATOR_TOKEN),
        bearer(&device_token),
        bearer("wrong-secret-token-77"),
        format!("Basic {basic_good}"),
        format!("Basic {basic_bad}"),
    ] {
        let _ = send(&mut c, "GET", &v2("/streams"), Some(&auth), None);
        let _ = send(&mut c, "GET", &v2("/streams/x/events"), Some(&auth), None);
    }
    drop(c);
    let log = server.log_text();
    let status = server.terminate();
    assert!(status.success());
    assert!(
        log.contains("GET /v2/streams"),
        "the requests are logged: {log}"
    );
    for secret in [
        OPERATOR_TOKEN,
        device_token.as_str(),
        "wrong-secret-token-77",
        BASIC_PASSWORD,
        "wr0ng/pass?x",
        basic_good.as_str(),
        basic_bad.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}

fn an_empty_stream_is_open_until_its_first_event(backend: &Backend) {
    let server = start(backend, &[]);
    let mut c = server.client();
    let alice = bearer(&sign_in(&mut c, &device_key()));
    let bob = bearer(&sign_in(&mut c, &other_key()));
    put_model_as(&mut c, &alice);
    // The sync client creates a stream by an append of no events, then
    // reads it back: no owner yet, so not refused.
    let r = push(&mut c, Some(&alice), "empty", Head::zero(), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        &mut c,
        "GET",
        &v2("/streams/empty/events"),
        Some(&alice),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(listed(&mut c, &bob).is_empty(), "not listed to keys");
    // Its first event makes alice the owner: bob is refused from then on.
    let events = chain_by(ALICE, "empty", &ticks(1));
    assert_eq!(
        push(&mut c, Some(&alice), "empty", Head::zero(), &events).status,
        200
    );
    let r = send(
        &mut c,
        "GET",
        &v2("/streams/empty/events"),
        Some(&bob),
        None,
    );
    assert_eq!((r.status, error(&r).code.as_str()), (403, "FORBIDDEN"));
}

/// The event after `prev` that changes no count (a policy entry, or
/// `audit`, which puts back the token it takes), signed by `key`: built
/// from the format's public pieces, past any client-side check.
fn unchanged_after(
    prev: &Event,
    key: &SoftwareKey,
    action: &str,
    roles: &[&str],
    payload: &str,
) -> Event {
    let mut nonce = [0u8; 16];
    key.random(&mut nonce).unwrap();
    resign(
        Event {
            v: petrichain::chain::FORMAT_VERSION,
            stream: prev.stream.clone(),
            seq: prev.seq + 1,
            model: prev.model.clone(),
            action: action.into(),
            multiple: 1,
            args: Vec::new(),
            actor: String::new(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            payload: payload.into(),
            ts: 1_700_000_000_000,
            nonce: hex::encode(nonce),
            prev: prev.hash.clone(),
            delta: Vec::new(),
            keys: Vec::new(),
            root: prev.root.clone(),
            signer: String::new(),
            hash: String::new(),
            sig: String::new(),
        },
        key,
    )
}

/// The chain error a `422 INVALID_EVENT` gives as its reason.
fn reason(r: &Response) -> serde_json::Value {
    assert_eq!(
        (r.status, error(r).code.as_str()),
        (422, "INVALID_EVENT"),
        "{}",
        r.text()
    );
    error(r).reason.expect("a reason")
}

fn grants_decide_roles_and_membership(backend: &Backend) {
    let server = start(backend, &[]);
    let mut c = server.client();
    let (alice, bob) = (device_key(), other_key());
    let alice_token = bearer(&sign_in(&mut c, &alice));
    let bob_token = bearer(&sign_in(&mut c, &bob));
    let op = bearer(OPERATOR_TOKEN);
    put_model_as(&mut c, &alice_token);
    let bob_hex = hex::encode(bob.public_key());
    let grant = serde_json::json!({ "key": bob_hex, "role": "auditor" }).to_string();

    let first = chain_by(ALICE, "till", &[Action::new("spend")]).remove(0);
    assert_eq!(
        push(
            &mut c,
            Some(&alice_token),
            "till",
            Head::zero(),
            std::slice::from_ref(&first)
        )
        .status,
        200
    );
    // Bob is no member yet; even pushed by an operator, his claim of a
    // role never granted is refused by the chain's check.
    let claim = unchanged_after(&first, &bob, "audit", &["auditor"], "null");
    let r = push(
        &mut c,
        Some(&bob_token),
        "till",
        head_of(&first),
        std::slice::from_ref(&claim),
    );
    assert_eq!((r.status, error(&r).code.as_str()), (403, "FORBIDDEN"));
    let r = push(
        &mut c,
        Some(&op),
        "till",
        head_of(&first),
        std::slice::from_ref(&claim),
    );
    let why = reason(&r);
    assert_eq!(why["code"], "ROLE_NOT_GRANTED", "{why}");
    assert_eq!(
        (
            why["key"].as_str(),
            why["role"].as_str(),
            why["seq"].as_u64()
        ),
        (Some(&*bob_hex), Some("auditor"), Some(2))
    );
    // A grant signed by Bob (no `$admin`) is refused too.
    let self_grant = unchanged_after(&first, &bob, "$grant", &[], &grant);
    let why = reason(&push(
        &mut c,
        Some(&op),
        "till",
        head_of(&first),
        std::slice::from_ref(&self_grant),
    ));
    assert_eq!(
        (why["code"].as_str(), why["role"].as_str()),
        (Some("ROLE_NOT_GRANTED"), Some("$admin"))
    );

    // Alice grants: Bob, who never signed, is now a member and may act.
    let granted = unchanged_after(&first, &alice, "$grant", &[], &grant);
    assert_eq!(
        push(
            &mut c,
            Some(&alice_token),
            "till",
            head_of(&first),
            std::slice::from_ref(&granted)
        )
        .status,
        200
    );
    let r = send(
        &mut c,
        "GET",
        &v2("/streams/till/events"),
        Some(&bob_token),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let audit = unchanged_after(&granted, &bob, "audit", &["auditor"], "null");
    let r = push(
        &mut c,
        Some(&bob_token),
        "till",
        head_of(&granted),
        std::slice::from_ref(&audit),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // A restarted server resumes from its stored head and rebuilds the
    // policy from the chain: the revocation holds.
    drop(server);
    let server = start(backend, &[]);
    let mut c = server.client();
    let alice_token = bearer(&sign_in(&mut c, &alice));
    let revoked = unchanged_after(&audit, &alice, "$revoke", &[], &grant);
    let r = push(
        &mut c,
        Some(&alice_token),
        "till",
        head_of(&audit),
        std::slice::from_ref(&revoked),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    drop(server);
    let server = start(backend, &[]);
    let mut c = server.client();
    let bob_token = bearer(&sign_in(&mut c, &bob));
    let late = unchanged_after(&revoked, &bob, "audit", &["auditor"], "null");
    let why = reason(&push(
        &mut c,
        Some(&bob_token),
        "till",
        head_of(&revoked),
        std::slice::from_ref(&late),
    ));
    assert_eq!(why["code"], "ROLE_REVOKED", "{why}");
    let alice_hex = hex::encode(alice.public_key());
    assert_eq!(
        (why["by"].as_str(), why["at"].as_u64(), why["seq"].as_u64()),
        (Some(&*alice_hex), Some(4), Some(5))
    );
    // A profile needs a grant held now.
    let profile = unchanged_after(&revoked, &bob, "$profile", &[], r#"{"name":"Bob"}"#);
    let why = reason(&push(
        &mut c,
        Some(&bob_token),
        "till",
        head_of(&revoked),
        std::slice::from_ref(&profile),
    ));
    assert_eq!(
        (why["code"].as_str(), why["role"].as_str()),
        (Some("ROLE_NOT_GRANTED"), Some("$profile"))
    );
}

on_both_backends!(
    grants_decide_roles_and_membership,
    an_empty_stream_is_open_until_its_first_event,
    no_credentials_is_401_with_a_challenge,
    unknown_and_expired_tokens_are_401,
    keys_read_and_append_only_their_streams,
    public_read_opens_reads_not_writes,
    secrets_stay_out_of_the_log,
);

/// Runs the binary with `args` to its end (at most 30 s): exit code and
/// everything it printed, stdout and stderr.
fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = TempDir::new("run");
    let out = dir.path("out");
    let file = std::fs::File::create(&out).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
        .args(args)
        .env_remove(petrichain_server::auth::operators::CREDENTIALS_ENV)
        .envs(env.iter().copied())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, std::fs::read_to_string(&out).unwrap_or_default())
}

#[test]
fn non_loopback_without_auth_refuses_to_start() {
    let dir = TempDir::new("insecure");
    let db = dir.path("db.sqlite").to_string_lossy().into_owned();
    let (code, text) = run_to_end(&["--addr", "0.0.0.0:0", "--db", &db], &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("refusing to listen on 0.0.0.0:0") && text.contains("--insecure"),
        "{text}"
    );
    assert!(
        !dir.path("db.sqlite").exists(),
        "nothing is created before refusing"
    );
}

#[test]
fn loopback_without_auth_keeps_working_and_says_so() {
    let backend = Backend::sqlite("open");
    let server = backend.start(&[]);
    let mut c = server.client();
    assert_eq!(send(&mut c, "GET", &v2("/streams"), None, None).status, 200);
    assert!(server.log_text().contains("authentication is off"));
}

#[test]
fn credentials_come_from_the_environment_too() {
    let dir = TempDir::new("env");
    let db = dir.path("db.sqlite").to_string_lossy().into_owned();
    // With credentials from the variable, a non-loopback address is allowed;
    // a bad line is refused, naming the variable, not the secret.
    let (code, text) = run_to_end(
        &["--addr", "127.0.0.1:0", "--db", &db],
        &[("PETRICHAIN_SERVER_CREDENTIALS", "token ci s3cret-in-clear")],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("PETRICHAIN_SERVER_CREDENTIALS") && text.contains("never in clear"),
        "{text}"
    );
    assert!(!text.contains("s3cret-in-clear"), "{text}");
}

#[test]
fn a_database_password_with_slash_and_question_mark_is_not_logged() {
    let dir = TempDir::new("pgpw");
    for url in [
        "postgres://app:pa/ss?word@127.0.0.1:1/chains",
        "postgres://app:pa%2Fss%3Fword@127.0.0.1:1/chains",
    ] {
        let (code, text) = run_to_end(&["--addr", "127.0.0.1:0", "--db", url], &[]);
        assert_ne!(code, Some(0), "{text}");
        assert!(!text.is_empty());
        for secret in ["pa/ss?word", "pa%2Fss%3Fword", "ss?word", "pa%2F"] {
            assert!(
                !text.contains(secret),
                "{secret} printed by the server for {url}:\n{text}"
            );
        }
    }
    drop(dir);
}
