//! Issue 17: the server holds against hostile connections. Each test starts
//! a real `petrichain-server` process on 127.0.0.1:0 with small limits and
//! talks raw TCP to it (the tests' `Client` would not stall on purpose).

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use petrichain::sync::protocol::ErrorBody;

/// A raw connection with a read timeout of `patience`.
fn connect(server: &Server, patience: Duration) -> TcpStream {
    let s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(patience)).unwrap();
    s
}

/// Reads until the server closes the connection; how long it took.
/// Panics when the server keeps it open past the read timeout.
fn closed_within(mut s: TcpStream) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server kept a stalled connection open: {e}")
            }
            // A reset is a close too.
            Err(_) => return start.elapsed(),
        }
    }
}

/// Reads one answer (status line, headers, a `Content-Length` body).
fn read_answer(s: &TcpStream) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let code: u16 = status
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line: {status:?}"))
        .parse()
        .unwrap();
    let headers = client::read_headers(&mut reader).unwrap();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    (code, headers, body)
}

fn json_error(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not a JSON error ({e}): {}", String::from_utf8_lossy(body)))
}

#[test]
fn a_stalled_request_head_and_an_idle_connection_are_closed() {
    let b = Backend::sqlite("header_timeout");
    let server = b.start(&["--header-timeout", "1"]);
    // Half a request head, then nothing.
    let mut stalled = connect(&server, Duration::from_secs(10));
    stalled
        .write_all(b"GET /v2/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    // Connected, never a byte.
    let idle = connect(&server, Duration::from_secs(10));
    // One full request, then the keep-alive connection sits idle.
    let mut kept = connect(&server, Duration::from_secs(10));
    kept.write_all(b"GET /v2/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    assert_eq!(read_answer(&kept).0, 200);
    for (what, s) in [("stalled head", stalled), ("idle", idle), ("kept", kept)] {
        let t = closed_within(s);
        assert!(t < Duration::from_secs(5), "{what}: closed after {t:?}");
    }
    // The server still serves.
    assert_eq!(
        server.client().get(&v2("/streams")).unwrap().status,
        200,
        "{}",
        server.log_text()
    );
}

#[test]
fn a_stalled_body_gets_408_and_a_huge_declared_length_413_at_once() {
    let b = Backend::sqlite("body_timeout");
    let server = b.start(&["--body-timeout", "1", "--max-body-bytes", "1000"]);
    let mut s = connect(&server, Duration::from_secs(10));
    s.write_all(
        format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n{{\"model\":",
            v2("/streams/s/events")
        )
        .as_bytes(),
    )
    .unwrap();
    let start = Instant::now();
    let (status, _, body) = read_answer(&s);
    assert_eq!((status, json_error(&body).code.as_str()), (408, "TIMEOUT"));
    assert!(start.elapsed() < Duration::from_secs(5));

    // 2^63 - 1 declared, two bytes sent.
    let mut s = connect(&server, Duration::from_secs(5));
    let start = Instant::now();
    s.write_all(
        format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: 9223372036854775807\r\n\r\n{{}}",
            v2("/streams/s/events")
        )
        .as_bytes(),
    )
    .unwrap();
    let (status, _, body) = read_answer(&s);
    let error = json_error(&body);
    assert_eq!((status, error.code.as_str()), (413, "TOO_LARGE"));
    assert!(error.message.contains("1000"), "{}", error.message);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(server.log_text().contains("POST"), "logged");
}

#[test]
fn connections_over_the_cap_get_503_and_the_rest_are_served() {
    let b = Backend::sqlite("max_connections");
    let server = b.start(&["--max-connections", "2", "--header-timeout", "30"]);
    let held: Vec<TcpStream> = (0..2)
        .map(|_| connect(&server, Duration::from_secs(5)))
        .collect();
    // The server accepts in order: give it the two first.
    std::thread::sleep(Duration::from_millis(200));
    let extra = connect(&server, Duration::from_secs(5));
    let (status, headers, body) = read_answer(&extra);
    assert_eq!(
        (status, json_error(&body).code.as_str()),
        (503, "OVERLOADED")
    );
    assert!(headers.iter().any(|(n, v)| n == "retry-after" && v == "1"));
    closed_within(extra);
    // One held connection goes: a new client is served.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = server.client();
        match c.get(&v2("/streams")) {
            Ok(r) if r.status == 200 => break,
            other => assert!(Instant::now() < deadline, "never served again: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_is_not_held_by_a_stalled_request() {
    let b = Backend::sqlite("shutdown_timeout");
    let server = b.start(&[
        "--shutdown-timeout",
        "1",
        "--body-timeout",
        "600",
        "--header-timeout",
        "600",
    ]);
    let mut s = connect(&server, Duration::from_secs(10));
    s.write_all(
        format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n{{",
            v2("/streams/s/events")
        )
        .as_bytes(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "stopped after {:?}",
        start.elapsed()
    );
    closed_within(s);
}

#[test]
fn a_push_is_capped_in_events_and_payload_depth() {
    let b = Backend::sqlite("push_caps");
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let one = chain(&m, "s", &ticks(1));
    // 1001 copies: refused on the count, before any is looked at.
    let many: Vec<_> = std::iter::repeat_n(one[0].clone(), 1001).collect();
    let r = append(
        &mut c,
        "s",
        &request(&m, petrichain::sync::protocol::Head::zero(), &many),
    );
    let e = error(&r);
    assert_eq!((r.status, e.code.as_str()), (413, "TOO_LARGE"));
    assert!(e.message.contains("at most 1000"), "{}", e.message);
    // A payload nested 100,000 deep.
    let mut deep = one[0].clone();
    deep.payload = "[".repeat(100_000);
    let r = append(
        &mut c,
        "s",
        &request(&m, petrichain::sync::protocol::Head::zero(), &[deep]),
    );
    let e = error(&r);
    assert_eq!((r.status, e.code.as_str()), (422, "INVALID_EVENT"));
    let reason = e.reason.expect("a reason");
    assert_eq!(reason["code"], "PAYLOAD_TOO_DEEP");
    assert_eq!(reason["limit"], 64);
    // Nothing stored; the plain event still goes in.
    assert_eq!(c.get(&v2("/streams/s/events")).unwrap().status, 404);
    let r = append(
        &mut c,
        "s",
        &request(&m, petrichain::sync::protocol::Head::zero(), &one),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn the_stream_listing_is_paginated() {
    use petrichain::sync::protocol::{Head, StreamList};
    use petrichain::sync::Transport;
    let b = Backend::sqlite("stream_pages");
    let server = b.start(&["--synchronous", "normal"]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    // 1002 empty streams, ids with characters a query must escape.
    let ids: Vec<String> = (0..1002).map(|i| format!("s {i:04}&é")).collect();
    for id in &ids {
        let path = format!("/streams/{}/events", transport::percent_encode(id));
        let body = serde_json::to_vec(&request(&m, Head::zero(), &[])).unwrap();
        let r = c.request("POST", &v2(&path), &[], Some(&body)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let list = |c: &mut Client, query: &str| -> StreamList {
        let r = c.get(&v2(&format!("/streams{query}"))).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        r.json().unwrap()
    };
    // The default page is the cap: 1000, then the id to go on after.
    let first = list(&mut c, "");
    assert_eq!(first.streams.len(), 1000);
    assert_eq!(first.next.as_deref(), Some(ids[999].as_str()));
    assert_eq!(list(&mut c, "?limit=100000").streams.len(), 1000);
    let rest = list(
        &mut c,
        &format!("?after={}", transport::percent_encode(&ids[999])),
    );
    let rest_ids: Vec<&str> = rest.streams.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(rest_ids, [ids[1000].as_str(), ids[1001].as_str()]);
    assert_eq!(rest.next, None);
    let two = list(&mut c, "?limit=2");
    assert_eq!(
        (two.streams.len(), two.next.as_deref()),
        (2, Some(ids[1].as_str()))
    );
    for bad in ["?limit=0", "?limit=x", "?limit=-1"] {
        let r = c.get(&v2(&format!("/streams{bad}"))).unwrap();
        assert_eq!(
            (r.status, error(&r).code.as_str()),
            (400, "BAD_REQUEST"),
            "{bad}"
        );
    }
    // The sync client's listing follows `next`: every stream.
    let t = transport::HttpTransport::new(server.addr);
    let all = petrichain::store::block_on(t.list_streams())
        .unwrap()
        .unwrap();
    let mut got: Vec<String> = all.streams.into_iter().map(|s| s.id).collect();
    got.sort();
    assert_eq!(got, ids);
}

/// Opens `GET /v2/streams/{stream}/live` on a raw connection: its status,
/// the connection (kept open for an SSE answer), the body of an error.
fn open_live(server: &Server, stream: &str) -> (u16, TcpStream, Vec<u8>) {
    let mut s = connect(server, Duration::from_secs(5));
    s.write_all(
        format!(
            "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
            v2(&format!("/streams/{stream}/live"))
        )
        .as_bytes(),
    )
    .unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let code: u16 = status.split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = client::read_headers(&mut reader).unwrap();
    let mut body = Vec::new();
    if let Some((_, len)) = headers.iter().find(|(n, _)| n == "content-length") {
        body.resize(len.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    }
    (code, s, body)
}

#[test]
fn live_listeners_are_capped_per_stream_and_in_total() {
    use petrichain::sync::protocol::Head;
    let b = Backend::sqlite("live_caps");
    let server = b.start(&["--max-live", "3", "--max-live-per-stream", "2"]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    for s in ["a", "b", "c"] {
        assert_eq!(
            append(&mut c, s, &request(&m, Head::zero(), &[])).status,
            200
        );
    }
    let (s1, a1, _) = open_live(&server, "a");
    let (s2, _a2, _) = open_live(&server, "a");
    assert_eq!((s1, s2), (200, 200));
    let (status, _, body) = open_live(&server, "a");
    let e = json_error(&body);
    assert_eq!((status, e.code.as_str()), (503, "OVERLOADED"));
    assert!(e.message.contains("--max-live-per-stream"), "{}", e.message);
    let (s3, _b1, _) = open_live(&server, "b");
    assert_eq!(s3, 200);
    let (status, _, body) = open_live(&server, "c");
    let e = json_error(&body);
    assert_eq!((status, e.code.as_str()), (503, "OVERLOADED"));
    assert!(e.message.contains("--max-live)"), "{}", e.message);
    // A listener that goes away gives its place back.
    drop(a1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _keep, _) = open_live(&server, "c");
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the slot never came back");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One request on a fresh connection, every header given as is.
fn raw(
    server: &Server,
    method: &str,
    target: &str,
    headers: &[&str],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = connect(server, Duration::from_secs(10));
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let (status, _, body) = read_answer(&s);
    (status, body)
}

#[test]
fn writes_must_be_json_and_from_an_allowed_origin() {
    use petrichain::sync::protocol::Head;
    let b = Backend::sqlite("cross_site");
    let server = b.start(&[]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let events = chain(&m, "s", &ticks(1));
    let body = serde_json::to_vec(&request(&m, Head::zero(), &events)).unwrap();
    let target = v2("/streams/s/events");
    let host = format!("Host: {}", server.addr);
    // What any web page may send without a preflight: a text/plain POST.
    for (content_type, origin) in [
        ("Content-Type: text/plain", "Origin: https://evil.example"),
        ("Content-Type: text/plain;charset=UTF-8", "X-No-Origin: 1"),
        ("X-No-Content-Type: 1", "X-No-Origin: 1"),
        (
            "Content-Type: application/x-www-form-urlencoded",
            "X-No-Origin: 1",
        ),
    ] {
        let (status, answer) = raw(
            &server,
            "POST",
            &target,
            &[&host, content_type, origin],
            &body,
        );
        let e = json_error(&answer);
        let expected = if origin.starts_with("Origin") {
            (403, "FORBIDDEN_ORIGIN")
        } else {
            (415, "UNSUPPORTED_MEDIA_TYPE")
        };
        assert_eq!(
            (status, e.code.as_str()),
            expected,
            "{content_type} {origin}"
        );
    }
    // JSON from a foreign page (after a preflight the server does not grant).
    let (status, answer) = raw(
        &server,
        "POST",
        &target,
        &[
            &host,
            "Content-Type: application/json",
            "Origin: https://evil.example",
        ],
        &body,
    );
    assert_eq!(
        (status, json_error(&answer).code.as_str()),
        (403, "FORBIDDEN_ORIGIN")
    );
    let (status, answer) = raw(
        &server,
        "PUT",
        &v2(&format!("/models/{}", m.id())),
        &[&host, "Content-Type: text/plain"],
        &serde_json::to_vec(&model_doc(&m)).unwrap(),
    );
    assert_eq!(
        (status, json_error(&answer).code.as_str()),
        (415, "UNSUPPORTED_MEDIA_TYPE")
    );
    assert_eq!(
        c.get(&v2("/streams/s/events")).unwrap().status,
        404,
        "nothing stored"
    );
    // The app served by this server (npm start): its own origin, JSON.
    let own = format!("Origin: http://{}", server.addr);
    let (status, answer) = raw(
        &server,
        "POST",
        &target,
        &[&host, "Content-Type: application/json; charset=utf-8", &own],
        &body,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    // An origin in the CORS list may write.
    let listed = Backend::sqlite("cross_site_listed");
    let server = listed.start(&["--cors-origin", "https://app.example"]);
    let mut c = server.client();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let host = format!("Host: {}", server.addr);
    let (status, answer) = raw(
        &server,
        "POST",
        &target,
        &[
            &host,
            "Content-Type: application/json",
            "Origin: https://app.example",
        ],
        &body,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let (status, _) = raw(
        &server,
        "POST",
        &target,
        &[
            &host,
            "Content-Type: application/json",
            "Origin: https://other.example",
        ],
        &body,
    );
    assert_eq!(status, 403);
}

#[test]
fn a_foreign_host_name_gets_421_dns_rebinding() {
    let b = Backend::sqlite("rebinding");
    std::fs::write(
        b.dir.path("index.html"),
        "<!doctype html><title>app</title>",
    )
    .unwrap();
    let dir = b.dir.0.to_string_lossy().into_owned();
    let server = b.start(&["--static", &dir]);
    let port = server.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "LOCALHOST".into(),
    ] {
        for target in ["/".to_string(), v2("/streams")] {
            let (status, body) = raw(&server, "GET", &target, &[&format!("Host: {host}")], b"");
            assert_eq!(
                status,
                200,
                "{host} {target}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    // evil.example resolved to 127.0.0.1 by its owner: the page is
    // same-origin with evil.example, the Host header says so.
    for host in [
        format!("evil.example:{port}"),
        "evil.example".into(),
        format!("127.0.0.1.evil.example:{port}"),
    ] {
        for target in ["/".to_string(), v2("/streams")] {
            let (status, body) = raw(&server, "GET", &target, &[&format!("Host: {host}")], b"");
            let e = json_error(&body);
            assert_eq!(
                (status, e.code.as_str()),
                (421, "MISDIRECTED_HOST"),
                "{host} {target}"
            );
        }
    }
    let (status, body) = raw(&server, "GET", &v2("/streams"), &[], b"");
    assert_eq!(
        (status, json_error(&body).code.as_str()),
        (421, "MISDIRECTED_HOST"),
        "no Host"
    );
    // Named hosts replace the default.
    let named = Backend::sqlite("rebinding_named");
    let server = named.start(&["--allowed-host", "ledger.example"]);
    let (status, _) = raw(
        &server,
        "GET",
        &v2("/streams"),
        &["Host: ledger.example:443"],
        b"",
    );
    assert_eq!(status, 200);
    let (status, _) = raw(
        &server,
        "GET",
        &v2("/streams"),
        &[&format!("Host: {}", server.addr)],
        b"",
    );
    assert_eq!(status, 421);
}

/// Sends `request` as is; the whole answer until the server closes.
fn send_raw(server: &Server, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = connect(server, Duration::from_secs(10));
    // The server may answer and close before it has read everything.
    let _ = s.write_all(request);
    let (status, headers, body) = read_answer(&s);
    let content_type = headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    (status, content_type, body)
}

#[test]
fn every_error_answer_is_json_even_hypers_own() {
    let b = Backend::sqlite("json_errors");
    std::fs::write(b.dir.path("index.html"), "<!doctype html>").unwrap();
    let dir = b.dir.0.to_string_lossy().into_owned();
    let server = b.start(&["--static", &dir]);
    let long_target = format!("/{}", "a".repeat(70_000));
    let long_segment = format!("/{}", "a".repeat(300));
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), 400, "BAD_REQUEST"),
        (
            format!("GET {long_target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes(),
            414,
            "URI_TOO_LONG",
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
                "a".repeat(500_000)
            )
            .into_bytes(),
            431,
            "HEADERS_TOO_LARGE",
        ),
        // Above the server's own limit, well below hyper's: refused by
        // the server however the bytes arrive.
        (
            format!(
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
                "a".repeat(petrichain_server::routes::MAX_HEADER_BYTES + 1)
            )
            .into_bytes(),
            431,
            "HEADERS_TOO_LARGE",
        ),
        (
            format!("GET {long_segment} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .into_bytes(),
            404,
            "NOT_FOUND",
        ),
        (
            format!(
                "GET /{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                "%61".repeat(300)
            )
            .into_bytes(),
            404,
            "NOT_FOUND",
        ),
    ];
    for (request, status, code) in cases {
        let shown = String::from_utf8_lossy(&request[..40.min(request.len())]).into_owned();
        let (got, content_type, body) = send_raw(&server, &request);
        assert_eq!(got, status, "{shown}");
        assert_eq!(content_type, "application/json", "{shown}");
        assert_eq!(json_error(&body).code, code, "{shown}");
    }
    // Just under the limit, the same request is served.
    let under = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(petrichain_server::routes::MAX_HEADER_BYTES - 64)
    );
    assert_eq!(send_raw(&server, under.as_bytes()).0, 200);
    // The server is fine after them.
    assert_eq!(server.client().get("/").unwrap().status, 200);
}

fn model_doc_of(json: &str) -> petrichain::sync::protocol::ModelDoc {
    use sha2::Digest;
    petrichain::sync::protocol::ModelDoc {
        id: hex::encode(sha2::Sha256::digest(json.as_bytes())),
        json: json.to_string(),
    }
}

#[test]
fn invalid_models_list_at_most_100_problems() {
    let b = Backend::sqlite("problems_cap");
    let server = b.start(&[]);
    let mut c = server.client();
    // 300 arcs between nodes that do not exist: a problem each.
    let arcs: Vec<String> = (0..300)
        .map(|i| format!("{{\"source\":\"nope{i}\",\"target\":\"t\"}}"))
        .collect();
    let json = format!(
        "{{\"name\":\"n\",\"places\":[{{\"id\":\"p\"}}],\"transitions\":[{{\"id\":\"t\"}}],\"arcs\":[{}]}}",
        arcs.join(",")
    );
    let doc = model_doc_of(&json);
    let r = c
        .send_json("PUT", &v2(&format!("/models/{}", doc.id)), &doc)
        .unwrap();
    let e = error(&r);
    assert_eq!((r.status, e.code.as_str()), (422, "INVALID_MODEL"));
    let problems = e.problems.unwrap();
    assert_eq!(problems.as_array().unwrap().len(), 100);
    assert!(
        e.message.contains("300 problems, the first 100"),
        "{}",
        e.message
    );
}

#[test]
fn model_uploads_can_be_turned_off() {
    use petrichain::sync::protocol::Head;
    let b = Backend::sqlite("no_uploads");
    let m = model();
    {
        let server = b.start(&[]);
        assert_eq!(put_model(&mut server.client(), &m).status, 201);
    }
    let server = b.start(&["--no-model-uploads"]);
    let mut c = server.client();
    // Stored already: idempotent, and streams on it work.
    assert_eq!(put_model(&mut c, &m).status, 200);
    let events = chain(&m, "s", &ticks(2));
    assert_eq!(
        append(&mut c, "s", &request(&m, Head::zero(), &events)).status,
        200
    );
    // A new one is refused, and not stored.
    let other = model_doc_of(&NET.replace("till", "other"));
    let r = c
        .send_json("PUT", &v2(&format!("/models/{}", other.id)), &other)
        .unwrap();
    let e = error(&r);
    assert_eq!((r.status, e.code.as_str()), (403, "MODEL_UPLOADS_CLOSED"));
    let r = c.get(&v2(&format!("/models/{}", other.id))).unwrap();
    assert_eq!(r.status, 404);
}

#[test]
fn a_postgres_password_never_reaches_the_log() {
    // Unescaped delimiters are refused with the URL masked; escaped ones
    // reach the connection attempt (nothing listens on port 1), whose
    // error shows the URL masked too.
    for password in [
        "se/cret-1",
        "se?cret-2",
        "p@ss-3",
        "a/b?c@d-4",
        "x%2Fy%3Fz%40w",
    ] {
        let url = format!("postgres://app:{password}@127.0.0.1:1/chains");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
            .args(["--addr", "127.0.0.1:0", "--db", &url])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{text}");
        assert!(text.contains("app:***@"), "the URL is shown masked: {text}");
        assert!(!text.contains(password), "{password} in: {text}");
    }
}

/// Issue 17: 100 events of 1 MiB, four concurrent pulls, took the server
/// from 144 MB to 1.33 GB. At a CI size (24 events of 1 MiB, four clients
/// pulling everything three times at once) its peak memory stays under
/// 160 MB: pages stop at 4 MiB.
#[test]
fn concurrent_pulls_of_large_events_stay_bounded_in_memory() {
    use petrichain::sync::protocol::{EventPage, Head};
    let b = Backend::sqlite("pull_memory");
    let server = b.start(&["--synchronous", "normal"]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let key = device_key();
    let mut marking = m.initial_marking();
    let (mut tip, mut pushed) = (Head::zero(), Head::zero());
    let payload = format!("\"{}\"", "x".repeat((1 << 20) - 2));
    let mut batch = Vec::new();
    for i in 0..24u64 {
        let e = next_event(&m, "big", &key, &tip, &mut marking, "tick", "", &payload, i);
        tip = head_of(&e);
        batch.push(e);
        if batch.len() == 6 || i == 23 {
            let r = append(&mut c, "big", &request(&m, pushed.clone(), &batch));
            assert_eq!(r.status, 200, "{}", r.text());
            pushed = tip.clone();
            batch.clear();
        }
    }
    let before = server.peak_rss().expect("Linux /proc");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut c = server.client();
                for _ in 0..3 {
                    let (mut after, mut got) = (0u64, 0usize);
                    loop {
                        let r = c
                            .get(&v2(&format!(
                                "/streams/big/events?after={after}&limit=1000"
                            )))
                            .unwrap();
                        let page: EventPage = r.json().unwrap();
                        assert!(page.events.len() <= 4, "a page is at most 4 MiB");
                        got += page.events.len();
                        match page.events.last() {
                            Some(last) if page.more => after = last.seq,
                            _ => break,
                        }
                    }
                    assert_eq!(got, 24);
                }
            });
        }
    });
    let peak = server.peak_rss().unwrap();
    eprintln!(
        "server peak RSS: {} MB before the pulls, {} MB after",
        before >> 20,
        peak >> 20
    );
    assert!(peak < 160 << 20, "peak {} MB", peak >> 20);
}

/// A valid model of about `bytes` of canonical JSON: places with long
/// labels, `salt` making each one distinct.
fn big_model(bytes: usize, salt: usize) -> petrichain::Model {
    let label = format!("{salt:04}{}", "l".repeat(196));
    let n = bytes / (label.len() + 40);
    let places: Vec<String> = (0..n)
        .map(|i| format!("{{\"id\":\"p{i}\",\"label\":\"{label}\"}}"))
        .collect();
    let json = format!(
        "{{\"places\":[{}],\"transitions\":[{{\"id\":\"t\"}}],\"arcs\":[{{\"source\":\"p0\",\"target\":\"t\"}}]}}",
        places.join(",")
    );
    petrichain::formats::json::import_json(&json).unwrap().0
}

#[test]
fn hostile_clients_at_once_keep_the_server_under_256_mb() {
    use petrichain::sync::protocol::{EventPage, Head};
    let b = Backend::sqlite("hostile_load");
    // Timeouts long enough that a 4 MB upload arrives on a loaded CI
    // machine; the slow bodies below still meet them.
    let server = b.start(&[
        "--synchronous",
        "normal",
        "--header-timeout",
        "4",
        "--body-timeout",
        "12",
        "--max-connections",
        "300",
    ]);
    let mut c = server.client();
    let m = model();
    assert_eq!(put_model(&mut c, &m).status, 201);
    // Big pages: 16 events of 1 MiB.
    let key = device_key();
    let mut marking = m.initial_marking();
    let (mut tip, mut pushed) = (Head::zero(), Head::zero());
    let payload = format!("\"{}\"", "x".repeat((1 << 20) - 2));
    let mut batch = Vec::new();
    for i in 0..16u64 {
        let e = next_event(&m, "big", &key, &tip, &mut marking, "tick", "", &payload, i);
        tip = head_of(&e);
        batch.push(e);
        if batch.len() == 6 || i == 15 {
            let r = append(&mut c, "big", &request(&m, pushed.clone(), &batch));
            assert_eq!(r.status, 200, "{}", r.text());
            pushed = tip.clone();
            batch.clear();
        }
    }
    drop(batch);
    // Big models: 4 MB each, valid and invalid, built before the clock starts.
    let models: Vec<_> = (0..6).map(|i| model_doc(&big_model(4 << 20, i))).collect();
    let bad_arcs: Vec<String> = (0..60_000)
        .map(|i| format!("{{\"source\":\"nope{i}\",\"target\":\"t\"}}"))
        .collect();
    let invalid = model_doc_of(&format!(
        "{{\"places\":[{{\"id\":\"p\"}}],\"transitions\":[{{\"id\":\"t\"}}],\"arcs\":[{}]}}",
        bad_arcs.join(",")
    ));
    let before = server.peak_rss().expect("Linux /proc");
    let (srv, invalid) = (&server, &invalid);
    std::thread::scope(|s| {
        // Many connections: 200 sockets that send nothing, 20 half a head.
        s.spawn(move || {
            let mut held = Vec::new();
            for i in 0..220 {
                let mut sock = TcpStream::connect(srv.addr).unwrap();
                if i >= 200 {
                    let _ = sock.write_all(b"GET /v2/streams HTTP/1.1\r\nHost: 127.0");
                }
                held.push(sock);
            }
            std::thread::sleep(Duration::from_secs(2));
        });
        // Slow bodies: 1 MiB of a declared 4 MiB, then nothing.
        for _ in 0..8 {
            s.spawn(move || {
                let mut sock = connect(srv, Duration::from_secs(20));
                let body = vec![b' '; 1 << 20];
                let head = format!(
                    "POST /v2/streams/slow/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    4 << 20
                );
                sock.write_all(head.as_bytes()).unwrap();
                sock.write_all(&body).unwrap();
                let (status, _, body) = read_answer(&sock);
                assert_eq!((status, json_error(&body).code.as_str()), (408, "TIMEOUT"));
            });
        }
        // Big pages, four readers at once.
        for _ in 0..4 {
            s.spawn(move || {
                let mut c = srv.client();
                for _ in 0..2 {
                    let (mut after, mut got) = (0u64, 0usize);
                    loop {
                        let r = c
                            .get(&v2(&format!(
                                "/streams/big/events?after={after}&limit=1000"
                            )))
                            .unwrap();
                        let page: EventPage = r.json().unwrap();
                        got += page.events.len();
                        match page.events.last() {
                            Some(last) if page.more => after = last.seq,
                            _ => break,
                        }
                    }
                    assert_eq!(got, 16);
                }
            });
        }
        // Big models: three uploaders of two valid 4 MB models each, one of
        // an invalid one with 60,000 problems, twice.
        for chunk in models.chunks(2) {
            s.spawn(move || {
                let mut c = srv.client();
                for doc in chunk {
                    let r = c
                        .send_json("PUT", &v2(&format!("/models/{}", doc.id)), doc)
                        .unwrap();
                    assert_eq!(r.status, 201, "{}", r.text());
                }
            });
        }
        s.spawn(move || {
            let mut c = srv.client();
            for _ in 0..2 {
                let r = c
                    .send_json("PUT", &v2(&format!("/models/{}", invalid.id)), &invalid)
                    .unwrap();
                assert_eq!(r.status, 422, "{}", r.text());
            }
        });
    });
    let peak = server.peak_rss().unwrap();
    eprintln!(
        "hostile load: server peak RSS {} MB before, {} MB after",
        before >> 20,
        peak >> 20
    );
    assert!(peak < 256 << 20, "peak {} MB", peak >> 20);
    // And it still serves.
    let r = server.client().get(&v2("/streams")).unwrap();
    assert_eq!(r.status, 200);
}
