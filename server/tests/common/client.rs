//! A minimal blocking HTTP/1.1 client over one keep-alive TCP connection,
//! for the integration tests and the load benchmark (which includes this
//! file with `#[path]`: one copy). It sends request targets byte for byte
//! (no URL normalisation, so tests can send `/%2e%2e/...`), and reads
//! `Content-Length` or chunked bodies.
//!
//! ```text
//! let mut c = Client::connect("127.0.0.1:8787".parse().unwrap()).unwrap();
//! let r = c.get("/v2/streams").unwrap();
//! assert_eq!(r.status, 200);
//! ```

// Each test binary and the benchmark use a different part of it.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Largest response body read (64 MiB).
const MAX_BODY: usize = 64 << 20;

/// One answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> io::Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "status {}: body is not the expected JSON ({e}): {}",
                    self.status,
                    String::from_utf8_lossy(&self.body)
                ),
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A connection to one server.
pub struct Client {
    addr: SocketAddr,
    reader: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

impl Client {
    /// Connects (lazily reconnecting when the server closed the connection).
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        let mut c = Client {
            addr,
            reader: None,
            timeout: Duration::from_secs(30),
        };
        c.reader = Some(c.open()?);
        Ok(c)
    }

    fn open(&self) -> io::Result<BufReader<TcpStream>> {
        let s = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        s.set_nodelay(true)?;
        Ok(BufReader::new(s))
    }

    /// `GET target`.
    pub fn get(&mut self, target: &str) -> io::Result<Response> {
        self.request("GET", target, &[], None)
    }

    /// `method target` with a JSON body.
    pub fn send_json<T: Serialize>(
        &mut self,
        method: &str,
        target: &str,
        body: &T,
    ) -> io::Result<Response> {
        let bytes = serde_json::to_vec(body).map_err(|e| bad(e.to_string()))?;
        self.request(method, target, &[], Some(&bytes))
    }

    /// Any request. `headers` are added as given; `Content-Length` is set
    /// when there is a body. Retries once on a fresh connection if a reused
    /// one turns out to be closed before any answer byte.
    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Response> {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        head.push_str("\r\n");
        for attempt in 0..2 {
            let reader = match self.reader.take() {
                Some(r) => r,
                None => self.open()?,
            };
            match exchange(reader, head.as_bytes(), body) {
                Ok((response, reader)) => {
                    self.reader = reader;
                    return Ok(response);
                }
                Err(Exchange::Stale(_)) if attempt == 0 => continue,
                Err(Exchange::Stale(e)) | Err(Exchange::Failed(e)) => return Err(e),
            }
        }
        Err(bad("unreachable"))
    }
}

enum Exchange {
    /// Failed before any answer byte (a closed keep-alive connection).
    Stale(io::Error),
    Failed(io::Error),
}

type Exchanged = (Response, Option<BufReader<TcpStream>>);

fn exchange(
    mut reader: BufReader<TcpStream>,
    head: &[u8],
    body: Option<&[u8]>,
) -> Result<Exchanged, Exchange> {
    let written = {
        let s = reader.get_mut();
        s.write_all(head)
            .and_then(|_| body.map_or(Ok(()), |b| s.write_all(b)))
            .and_then(|_| s.flush())
    };
    let mut status_line = String::new();
    match written.and_then(|_| reader.read_line(&mut status_line)) {
        Ok(0) => return Err(Exchange::Stale(bad("connection closed"))),
        Ok(_) => {}
        Err(e) => return Err(Exchange::Stale(e)),
    }
    read_rest(reader, &status_line).map_err(Exchange::Failed)
}

fn read_rest(mut reader: BufReader<TcpStream>, status_line: &str) -> io::Result<Exchanged> {
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let headers = read_headers(&mut reader)?;
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let close = find("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    // 204 and 304 never have a body (RFC 9110), whatever the headers say.
    let body = if status == 204 || status == 304 {
        Vec::new()
    } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        while let Some(chunk) = read_chunk(&mut reader)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(bad("response body too large"));
            }
            body.extend_from_slice(&chunk);
        }
        body
    } else if let Some(len) = find("content-length") {
        let len: usize = len.trim().parse().map_err(|_| bad("bad content-length"))?;
        if len > MAX_BODY {
            return Err(bad("response body too large"));
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    } else {
        let mut body = Vec::new();
        reader
            .by_ref()
            .take(MAX_BODY as u64)
            .read_to_end(&mut body)?;
        return Ok((
            Response {
                status,
                headers,
                body,
            },
            None,
        ));
    };
    Ok((
        Response {
            status,
            headers,
            body,
        },
        if close { None } else { Some(reader) },
    ))
}

/// Reads header lines up to the blank line; names lowercased.
pub fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in the headers"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        if headers.len() > 200 {
            return Err(bad("too many headers"));
        }
    }
}

/// Reads one chunk of a chunked body; `None` at the last (empty) chunk.
pub fn read_chunk(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut size_line = String::new();
    if reader.read_line(&mut size_line)? == 0 {
        return Err(bad("connection closed in a chunked body"));
    }
    let size_text = size_line.trim().split(';').next().unwrap_or("");
    let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
    if size > MAX_BODY {
        return Err(bad("chunk too large"));
    }
    let mut chunk = vec![0; size];
    reader.read_exact(&mut chunk)?;
    let mut crlf = String::new();
    reader.read_line(&mut crlf)?;
    if size == 0 {
        // Trailers (none expected) end with the blank line just read.
        return Ok(None);
    }
    Ok(Some(chunk))
}
