//! Fuzzing the server's request decoding on stable, bounded, in CI (issue
//! 17; driver: crate/tests/fuzzing/mod.rs): mutated raw HTTP requests
//! (request line, headers, query, JSON bodies of models and appends) go to
//! a running server over TCP, one connection each, then the client closes
//! its side. Every answer must come within the test's deadline and every
//! error answer must be JSON with a `code` (hyper's own 400s included);
//! the server must not crash, must still answer after the run, and must
//! log no panic. Refused requests change nothing: only events that verify
//! can be stored, which `petrichain-server verify` checks at the end.

#[macro_use]
mod common;
#[path = "../../crate/tests/fuzzing/mod.rs"]
mod fuzzing;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use petrichain::sync::protocol::Head;

fn raw(method: &str, target: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends `input`, closes the sending side, reads until the server closes.
fn exchange(addr: SocketAddr, input: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("the server still accepts connections");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may answer and close before reading everything.
    let _ = s.write_all(input);
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 16 << 10];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => {
                // A live stream (SSE) stays open by design: not a stall.
                let head = String::from_utf8_lossy(&out);
                assert!(
                    head.contains("text/event-stream"),
                    "no answer within the deadline ({e}) to {:?}; got {head:?}",
                    String::from_utf8_lossy(&input[..input.len().min(300)])
                );
                break;
            }
        }
        if Instant::now() > deadline {
            break;
        }
    }
    out
}

/// The first answer: every error status carries a JSON body with a code.
fn check_answer(input: &[u8], answer: &[u8]) {
    if answer.is_empty() {
        // Closed without an answer: an empty or cut request.
        return;
    }
    let text = String::from_utf8_lossy(answer);
    let shown = || String::from_utf8_lossy(&input[..input.len().min(300)]).to_string();
    // HTTP/1.0 requests get HTTP/1.0 answers.
    assert!(
        text.starts_with("HTTP/1.1 ") || text.starts_with("HTTP/1.0 "),
        "{text:?} to {:?}",
        shown()
    );
    let status: u16 = text[9..12].parse().expect("a status code");
    if status < 400 {
        return;
    }
    let (head, rest) = text.split_once("\r\n\r\n").expect("a complete head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("an error answer without Content-Length: {head}"));
    let body = &rest.as_bytes()[..length.min(rest.len())];
    let json: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{status} body is not JSON ({e}): {rest:?} to {:?}", shown()));
    assert!(
        json["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{status} without a code: {json} to {:?}",
        shown()
    );
}

#[test]
fn mutated_requests_get_json_answers_and_never_crash_the_server() {
    let b = Backend::sqlite("fuzz_requests");
    let server = b.start(&["--max-body-bytes", "65536"]);
    let m = model();
    let doc = serde_json::to_string(&model_doc(&m)).unwrap();
    let events = chain(&m, "s", &spends(3));
    let push = serde_json::to_string(&request(&m, Head::zero(), &events)).unwrap();
    let json = "Content-Type: application/json\r\n";
    let id = m.id();
    let seeds = vec![
        raw("GET", "/v2/streams", "", ""),
        raw("GET", "/v2/streams?after=a&limit=2", "", ""),
        raw("PUT", &format!("/v2/models/{id}"), json, &doc),
        raw("GET", &format!("/v2/models/{id}"), "", ""),
        raw("POST", "/v2/streams/s/events", json, &push),
        raw(
            "POST",
            "/v2/streams/t/events",
            &format!("{json}Origin: http://127.0.0.1\r\n"),
            &push,
        ),
        raw("GET", "/v2/streams/s/events?after=1&limit=1", "", ""),
        raw(
            "POST",
            "/v2/streams/s/events",
            "Content-Type: text/plain\r\n",
            &push,
        ),
        raw("GET", "/v1/streams", "", ""),
        raw("OPTIONS", "/v2/streams", "Origin: http://a.example\r\n", ""),
    ];
    let dict: &[&[u8]] = &[
        b"\r\n",
        b"Content-Length: 99999999999\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Host: evil.example\r\n",
        b"%2e%2e/",
        b"\"events\":[",
        b"\"expected\":{\"seq\":0,\"hash\":\"",
        b"\"payload\":\"[[[[[[\"",
        b"\"seq\":18446744073709551615",
        b"/live",
        b"?limit=0",
        b"\xff\xfe",
    ];
    let addr = server.addr;
    fuzzing::run("requests", &seeds, dict, 5_000, 17, |input| {
        let answer = exchange(addr, input);
        check_answer(input, &answer);
    });
    // Still serving, nothing panicked, and what was stored verifies.
    let r = server.client().get(&v2("/streams")).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let log = server.log_text();
    assert!(!log.contains("panicked"), "{log}");
    assert!(server.terminate().success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
        .args(["verify", "--db", &b.db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
