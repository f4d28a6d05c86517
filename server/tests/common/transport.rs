//! The sync client's [`Transport`] over HTTP for native ledgers: the
//! protocol's requests through the tests' blocking [`Client`], answers
//! mapped the way the browser's fetch transport (petrichain-web's
//! `HttpTransport`) maps them, so a `Ledger::memory()` syncs with the real
//! server exactly as a browser tab does.

// The sync client's error type, as the core defines it (it carries whole
// chain errors; the core allows the same lint in its sync module).
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::net::SocketAddr;

use petrichain::sync::protocol::{
    AppendOk, AppendRequest, ErrorBody, EventPage, ModelDoc, StreamList,
};
use petrichain::sync::{PushOutcome, SyncError, Transport};
use serde::de::DeserializeOwned;

use super::{v2, Client, Response};

/// A backend at `http://{addr}`.
pub struct HttpTransport {
    name: String,
    client: RefCell<Client>,
}

impl HttpTransport {
    pub fn new(addr: SocketAddr) -> HttpTransport {
        HttpTransport::try_new(addr).expect("connects")
    }

    /// [`HttpTransport::new`], with a connection failure as an error (the
    /// load tool's clients report it instead of panicking).
    pub fn try_new(addr: SocketAddr) -> std::io::Result<HttpTransport> {
        Ok(HttpTransport {
            name: format!("http://{addr}"),
            client: RefCell::new(Client::connect(addr)?),
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<String>) -> Result<Response, SyncError> {
        self.client
            .borrow_mut()
            .request(method, &v2(path), &[], body.as_deref().map(str::as_bytes))
            .map_err(|e| SyncError::Network {
                backend: self.name.clone(),
                message: e.to_string(),
            })
    }

    fn parse<T: DeserializeOwned>(&self, what: &str, r: &Response) -> Result<T, SyncError> {
        r.json().map_err(|e| SyncError::BadResponse {
            backend: self.name.clone(),
            what: what.into(),
            message: e.to_string(),
        })
    }

    fn remote_error(&self, r: &Response) -> SyncError {
        let (remote_code, message) = match r.json::<ErrorBody>() {
            Ok(b) => (b.code, b.message),
            Err(_) => (String::new(), r.text().chars().take(200).collect()),
        };
        SyncError::RemoteError {
            backend: self.name.clone(),
            status: r.status,
            remote_code,
            message,
        }
    }
}

fn ok(r: &Response) -> bool {
    (200..300).contains(&r.status)
}

fn json<T: serde::Serialize>(v: &T) -> Option<String> {
    Some(serde_json::to_string(v).expect("serialisable"))
}

impl Transport for HttpTransport {
    fn backend(&self) -> &str {
        &self.name
    }

    /// Every stream, following `next` as the browser's transport does.
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        let mut all = Vec::new();
        let mut path = "/streams".to_string();
        for _ in 0..petrichain::sync::protocol::MAX_STREAM_LIST_PAGES {
            let r = self.call("GET", &path, None)?;
            if !ok(&r) {
                return Err(self.remote_error(&r));
            }
            let page: StreamList = self.parse("GET /streams", &r)?;
            all.extend(page.streams);
            match page.next {
                None => {
                    return Ok(Some(StreamList {
                        streams: all,
                        next: None,
                    }))
                }
                Some(next) => path = format!("/streams?after={}", percent_encode(&next)),
            }
        }
        Err(SyncError::BadResponse {
            backend: self.name.clone(),
            what: "GET /streams".into(),
            message: "too many pages".into(),
        })
    }

    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        let r = self.call("GET", &format!("/models/{id}"), None)?;
        match r.status {
            404 => Ok(None),
            _ if ok(&r) => self.parse("GET /models", &r).map(Some),
            _ => Err(self.remote_error(&r)),
        }
    }

    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        let r = self.call("PUT", &format!("/models/{}", doc.id), json(doc))?;
        if !ok(&r) {
            return Err(self.remote_error(&r));
        }
        Ok(())
    }

    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        let r = self.call(
            "GET",
            &format!("/streams/{stream}/events?after={after}&limit={limit}"),
            None,
        )?;
        if r.status == 404
            && r.json::<ErrorBody>()
                .is_ok_and(|b| b.code == "STREAM_NOT_FOUND")
        {
            return Ok(None);
        }
        if !ok(&r) {
            return Err(self.remote_error(&r));
        }
        self.parse("GET /events", &r).map(Some)
    }

    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        let r = self.call("POST", &format!("/streams/{stream}/events"), json(request))?;
        match r.status {
            _ if ok(&r) => self
                .parse::<AppendOk>("POST /events", &r)
                .map(PushOutcome::Appended),
            409 => match r.json::<ErrorBody>() {
                Ok(ErrorBody {
                    head: Some(head), ..
                }) => Ok(PushOutcome::Conflict(head)),
                _ => Err(SyncError::BadResponse {
                    backend: self.name.clone(),
                    what: "POST /events".into(),
                    message: "409 without the current head".into(),
                }),
            },
            422 => {
                let body: ErrorBody = self.parse("POST /events", &r)?;
                Err(SyncError::PushRejected {
                    backend: self.name.clone(),
                    stream: stream.into(),
                    remote_code: body.code,
                    message: body.message,
                    seq: body.seq,
                })
            }
            _ => Err(self.remote_error(&r)),
        }
    }
}

/// `s` with every byte but unreserved ones as `%XX` (a query value).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}
