//! `petrichain-server verify` replays stored chains and reports storage
//! that was altered behind the server's back (issue 17).

#[macro_use]
mod common;

use std::process::Command;

use common::*;
use petrichain::sync::protocol::Head;

fn verify(db: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
        .args(["verify", "--db", db])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn verify_reports_one_changed_byte_in_the_sqlite_file() {
    let b = Backend::sqlite("verify");
    let m = model();
    {
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(put_model(&mut c, &m).status, 201);
        // Two streams; one event of "b" carries a payload easy to find.
        let a = chain(&m, "a", &spends(3));
        assert_eq!(
            append(&mut c, "a", &request(&m, Head::zero(), &a)).status,
            200
        );
        let key = device_key();
        let mut marking = m.initial_marking();
        let mut head = Head::zero();
        let mut events = Vec::new();
        for (i, payload) in ["{\"n\":1}", "{\"note\":\"qqqqqqqqqqqqqqqq\"}", "{\"n\":3}"]
            .iter()
            .enumerate()
        {
            let e = next_event(
                &m,
                "b",
                &key,
                &head,
                &mut marking,
                "tick",
                "bob",
                payload,
                1 + i as u64,
            );
            head = head_of(&e);
            events.push(e);
        }
        assert_eq!(
            append(&mut c, "b", &request(&m, Head::zero(), &events)).status,
            200
        );
        assert!(server.terminate().success());
    }
    let (code, report) = verify(&b.db);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("2 streams, 6 events replayed: storage matches the chains"),
        "{report}"
    );

    // One byte of event b/2's payload, in the file itself.
    let mut bytes = std::fs::read(&b.db).unwrap();
    let needle = b"qqqqqqqqqqqqqqqq";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the payload is in the file");
    bytes[at + 3] = b'r';
    std::fs::write(&b.db, &bytes).unwrap();
    let (code, report) = verify(&b.db);
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("MISMATCH b: event 2"), "{report}");
    assert!(!report.contains("MISMATCH a"), "{report}");
    assert!(
        report.contains("1 stream(s) altered or unreadable"),
        "{report}"
    );

    // No such file: not verified, not created.
    let missing = b.dir.path("missing.sqlite");
    let (code, report) = verify(&missing.to_string_lossy());
    assert_eq!(code, 3, "{report}");
    assert!(!missing.exists());
}

#[test]
fn an_altered_head_marking_is_refused_and_reported() {
    let b = Backend::sqlite("forged_marking");
    let m = model();
    let events = chain(&m, "s", &spends(10));
    {
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(put_model(&mut c, &m).status, 201);
        assert_eq!(
            append(&mut c, "s", &request(&m, Head::zero(), &events)).status,
            200
        );
        assert!(server.terminate().success());
    }
    // All the cash is spent; the forged head says none was.
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    let state: String = conn
        .query_row("SELECT state FROM streams WHERE id = 's'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(state, "[0,10,0]");
    conn.execute("UPDATE streams SET state = '[10,0,0]' WHERE id = 's'", [])
        .unwrap();
    drop(conn);
    // The check on start would find it first: this is the append's own check.
    let server = b.start(&["--check-storage", "off"]);
    let mut c = server.client();
    // A spend the net refuses on the real marking, valid on the forged one.
    let head = head_of(&events[9]);
    let mut forged = petrichain::engine::Marking(vec![10, 0, 0]);
    let e = next_event(
        &m,
        "s",
        &device_key(),
        &head,
        &mut forged,
        "spend",
        "mallory",
        "null",
        99,
    );
    let r = append(&mut c, "s", &request(&m, head.clone(), &[e]));
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (500, "STORAGE_ALTERED"),
        "{}",
        r.text()
    );
    assert_eq!(count_rows(&b, "events"), 10, "nothing appended");
    // Found altered, the stream is no longer served at all.
    let r = c.get(&v2("/streams/s/events")).unwrap();
    assert_eq!(
        (r.status, error(&r).code.as_str()),
        (500, "STORAGE_ALTERED")
    );
    assert!(server.terminate().success());
    let (code, report) = verify(&b.db);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("MISMATCH s: the stored head marking"),
        "{report}"
    );
}

/// SIGTERM, and a clean exit (the log shown if not).
fn stop(server: Server) {
    let log = server.log.clone();
    let status = server.terminate();
    assert!(
        status.success(),
        "{status:?}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Two streams of three events each, "b" with a payload easy to find in the
/// file at event `marked` (1-based); the server stopped.
fn two_streams(b: &Backend, marked: usize) {
    let m = model();
    let server = b.start(&[]);
    let mut c = server.client();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let a = chain(&m, "a", &spends(3));
    assert_eq!(
        append(&mut c, "a", &request(&m, Head::zero(), &a)).status,
        200
    );
    let key = device_key();
    let mut marking = m.initial_marking();
    let mut head = Head::zero();
    let mut events = Vec::new();
    for i in 1..=3 {
        let payload = if i == marked {
            "{\"note\":\"qqqqqqqqqqqqqqqq\"}".to_string()
        } else {
            format!("{{\"n\":{i}}}")
        };
        let e = next_event(
            &m,
            "b",
            &key,
            &head,
            &mut marking,
            "tick",
            "bob",
            &payload,
            i as u64,
        );
        head = head_of(&e);
        events.push(e);
    }
    assert_eq!(
        append(&mut c, "b", &request(&m, Head::zero(), &events)).status,
        200
    );
    stop(server);
}

/// Changes one byte of the marked payload in the SQLite file itself.
fn change_marked_byte(b: &Backend) {
    let mut bytes = std::fs::read(&b.db).unwrap();
    let needle = b"qqqqqqqqqqqqqqqq";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the payload is in the file");
    bytes[at + 3] = b'r';
    std::fs::write(&b.db, &bytes).unwrap();
}

fn status_code(c: &mut Client, path: &str) -> (u16, String) {
    let r = c.get(&v2(path)).unwrap();
    let code = if r.status == 200 {
        String::new()
    } else {
        error(&r).code
    };
    (r.status, code)
}

#[test]
fn the_check_on_start_refuses_a_stream_whose_last_event_was_changed() {
    let b = Backend::sqlite("start_check_last");
    two_streams(&b, 3);
    change_marked_byte(&b);
    let server = b.start(&[]);
    let mut c = server.client();
    assert_eq!(
        status_code(&mut c, "/streams/b/events"),
        (500, "STORAGE_ALTERED".into())
    );
    assert_eq!(
        status_code(&mut c, "/streams/b/live"),
        (500, "STORAGE_ALTERED".into())
    );
    let r = c.get(&v2("/streams/b/events")).unwrap();
    assert!(
        error(&r)
            .message
            .contains("event 3's stored fields hash to"),
        "{}",
        r.text()
    );
    // The other stream is served as before.
    assert_eq!(
        status_code(&mut c, "/streams/a/events"),
        (200, String::new())
    );
    assert!(server
        .log_text()
        .contains("storage check: stream b is not served (500 STORAGE_ALTERED): event 3"));
    stop(server);
}

#[test]
fn a_changed_earlier_event_needs_the_full_check_on_start() {
    let b = Backend::sqlite("start_check_full");
    two_streams(&b, 2);
    change_marked_byte(&b);
    {
        // Cheap by default: the head and the last event still match.
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(
            status_code(&mut c, "/streams/b/events"),
            (200, String::new())
        );
        let log = server.log_text();
        assert!(
            log.contains("storage check (heads): 2 streams, 0 events replayed, 0 altered"),
            "{log}"
        );
        stop(server);
    }
    let server = b.start(&["--check-storage", "full"]);
    let mut c = server.client();
    assert_eq!(
        status_code(&mut c, "/streams/b/events"),
        (500, "STORAGE_ALTERED".into())
    );
    assert_eq!(
        status_code(&mut c, "/streams/a/events"),
        (200, String::new())
    );
    let log = server.log_text();
    assert!(
        log.contains("storage check: stream b is not served (500 STORAGE_ALTERED): event 2"),
        "{log}"
    );
    assert!(
        log.contains("storage check (full): 2 streams, 4 events replayed, 1 altered"),
        "{log}"
    );
    stop(server);
}

#[test]
fn the_check_on_start_refuses_a_stream_whose_head_marking_was_changed() {
    let b = Backend::sqlite("start_check_marking");
    let m = model();
    {
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(put_model(&mut c, &m).status, 201);
        for s in ["s", "t"] {
            let events = chain(&m, s, &spends(2));
            assert_eq!(
                append(&mut c, s, &request(&m, Head::zero(), &events)).status,
                200
            );
        }
        stop(server);
    }
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    conn.execute("UPDATE streams SET state = '[10,0,0]' WHERE id = 's'", [])
        .unwrap();
    drop(conn);
    let server = b.start(&[]);
    let mut c = server.client();
    assert_eq!(
        status_code(&mut c, "/streams/s/events"),
        (500, "STORAGE_ALTERED".into())
    );
    let r = c.get(&v2("/streams/s/events")).unwrap();
    assert!(error(&r).message.contains("Merkle root"), "{}", r.text());
    assert_eq!(
        status_code(&mut c, "/streams/t/events"),
        (200, String::new())
    );
    let log = server.log_text();
    assert!(
        log.contains("storage check: stream s is not served"),
        "{log}"
    );
    stop(server);
}

/// A stream of the keyed Bank net (www/examples/bank.json): its head
/// holds only the marking, so the check on start (and an append after a
/// restart) rebuilds the keys by replaying the chain, verified. An altered
/// key count anywhere in the chain, or an altered head marking, is found
/// even by the default (heads) check; `verify` replays it too.
#[test]
fn the_storage_check_covers_keyed_streams() {
    use petrichain::store::Action;
    let b = Backend::sqlite("start_check_keyed");
    let (m, _) =
        petrichain::formats::json::import_json(include_str!("../../www/examples/bank.json"))
            .unwrap();
    let pay = |from: &str, to: &str| Action::new("transfer").arg("from", from).arg("to", to);
    let events = chain(
        &m,
        "bank",
        &[
            Action::new("open").arg("user", "alice"),
            Action::new("open").arg("user", "bob"),
            pay("alice", "bob"),
            pay("bob", "alice"),
            pay("alice", "bob"),
        ],
    );
    {
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(put_model(&mut c, &m).status, 201);
        let r = append(&mut c, "bank", &request(&m, Head::zero(), &events[..4]));
        assert_eq!(r.status, 200, "{}", r.text());
        stop(server);
    }
    {
        // Restarted: served, and an append builds on the rebuilt keys.
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(
            status_code(&mut c, "/streams/bank/events"),
            (200, String::new())
        );
        let r = append(
            &mut c,
            "bank",
            &request(&m, head_of(&events[3]), &events[4..]),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let log = server.log_text();
        assert!(log.contains("0 altered"), "{log}");
        stop(server);
    }
    {
        let server = b.start(&["--check-storage", "full"]);
        let log = server.log_text();
        assert!(
            log.contains("storage check (full): 1 streams, 5 events replayed, 0 altered"),
            "{log}"
        );
        stop(server);
    }
    let (code, text) = verify(&b.db);
    assert_eq!(code, 0, "{text}");

    // An earlier event's key counts changed: found by the heads check.
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    let keys: String = conn
        .query_row(
            "SELECT keys FROM events WHERE stream = 'bank' AND seq = 3",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(keys.contains("alice"), "{keys}");
    conn.execute(
        "UPDATE events SET keys = replace(keys, '\"alice\",', '\"carol\",') WHERE stream = 'bank' AND seq = 3",
        [],
    )
    .unwrap();
    drop(conn);
    let server = b.start(&[]);
    let mut c = server.client();
    assert_eq!(
        status_code(&mut c, "/streams/bank/events"),
        (500, "STORAGE_ALTERED".into())
    );
    let r = c.get(&v2("/streams/bank/events")).unwrap();
    assert!(error(&r).message.contains("event 3"), "{}", r.text());
    stop(server);
    let (code, text) = verify(&b.db);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("event 3"), "{text}");
}

/// The head marking of a keyed stream changed: the heads check finds it
/// (the marking the replayed chain reaches differs).
#[test]
fn an_altered_keyed_head_marking_is_found_on_start() {
    use petrichain::store::Action;
    let b = Backend::sqlite("start_check_keyed_marking");
    let (m, _) =
        petrichain::formats::json::import_json(include_str!("../../www/examples/bank.json"))
            .unwrap();
    let events = chain(
        &m,
        "bank",
        &[
            Action::new("open").arg("user", "alice"),
            Action::new("open").arg("user", "bob"),
        ],
    );
    {
        let server = b.start(&[]);
        let mut c = server.client();
        assert_eq!(put_model(&mut c, &m).status, 201);
        let r = append(&mut c, "bank", &request(&m, Head::zero(), &events));
        assert_eq!(r.status, 200, "{}", r.text());
        stop(server);
    }
    let conn = rusqlite::Connection::open(&b.db).unwrap();
    conn.execute("UPDATE streams SET state = '[300,2]' WHERE id = 'bank'", [])
        .unwrap();
    drop(conn);
    let server = b.start(&[]);
    let mut c = server.client();
    assert_eq!(
        status_code(&mut c, "/streams/bank/events"),
        (500, "STORAGE_ALTERED".into())
    );
    let r = c.get(&v2("/streams/bank/events")).unwrap();
    assert!(error(&r).message.contains("marking"), "{}", r.text());
    stop(server);
}
