//! The HTTP transport: the protocol's requests through the
//! browser's `fetch`, with the headers the app configured on every request
//! and, with a `getAuth` callback, the credentials it gives: asked before
//! the first request and again once when a request is answered `401`
//! (then the request is sent again; a second `401` is `UNAUTHENTICATED`).
//! Works in windows and workers (uses the global `fetch`).

use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use petrichain::sync::protocol::{
    AppendOk, AppendRequest, ErrorBody, EventPage, ModelDoc, StreamList, MAX_STREAM_LIST_PAGES,
    PROTOCOL_VERSION,
};
use petrichain::sync::{PushOutcome, SyncError, Transport};

/// Largest response body read, in bytes of text.
const MAX_BODY: u32 = 256 << 20;
/// Requests are abandoned after this long (ms), as a network error.
const TIMEOUT_MS: u32 = 30_000;

/// Talks to a protocol v2 backend at a base URL.
pub struct HttpTransport {
    base: String,
    headers: Vec<(String, String)>,
    /// `getAuth({ reason })`, if given.
    get_auth: Option<Function>,
    /// The headers `getAuth` last gave (none asked yet: `None`).
    auth: std::cell::RefCell<Option<Vec<(String, String)>>>,
}

/// Why `getAuth` is called: `"initial"` before the first request,
/// `"unauthorized"` after a `401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthReason {
    /// Before the first request.
    Initial,
    /// The server answered `401` with the previous credentials.
    Unauthorized,
}

/// A raw answer: status and body text.
struct Answer {
    status: u16,
    body: String,
}

impl HttpTransport {
    /// A transport for the backend at `base` (e.g. `https://api.example.com/ledger`),
    /// sending `headers` (e.g. `Authorization`) on every request.
    pub fn new(base: &str, headers: Vec<(String, String)>) -> Self {
        HttpTransport {
            base: base.trim_end_matches('/').to_string(),
            headers,
            get_auth: None,
            auth: Default::default(),
        }
    }

    /// The same, asking `get_auth({ reason })` for credentials: it returns
    /// (or resolves to) `{ headers }` or `{ token }` (sent as
    /// `Authorization: Bearer TOKEN`).
    pub fn with_auth(mut self, get_auth: Function) -> Self {
        self.get_auth = Some(get_auth);
        self
    }

    /// Whether requests carry credentials (a `getAuth`, or an
    /// `Authorization` header): live updates then need fetch, not
    /// `EventSource`, which cannot send headers.
    pub fn has_auth(&self) -> bool {
        self.get_auth.is_some()
            || self
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    }

    /// The headers of a request: the configured ones, then those of
    /// `getAuth` (asked first if never asked).
    pub async fn request_headers(&self) -> Result<Vec<(String, String)>, SyncError> {
        let mut all = self.headers.clone();
        if self.get_auth.is_some() {
            let cached = self.auth.borrow().clone();
            let auth = match cached {
                Some(h) => h,
                None => self.refresh_auth(AuthReason::Initial).await?,
            };
            all.extend(auth);
        }
        Ok(all)
    }

    /// Asks `getAuth` again and keeps its answer.
    pub async fn refresh_auth(
        &self,
        reason: AuthReason,
    ) -> Result<Vec<(String, String)>, SyncError> {
        let Some(f) = &self.get_auth else {
            return Ok(Vec::new());
        };
        let arg = js_sys::Object::new();
        let reason_text = match reason {
            AuthReason::Initial => "initial",
            AuthReason::Unauthorized => "unauthorized",
        };
        let _ = Reflect::set(&arg, &"reason".into(), &reason_text.into());
        let failed = |m: String| SyncError::Unauthenticated {
            backend: self.base.clone(),
            message: format!("getAuth failed: {m}"),
        };
        let mut value = f
            .call1(&JsValue::NULL, &arg)
            .map_err(|e| failed(describe(&e)))?;
        if let Some(p) = value.dyn_ref::<Promise>() {
            value = JsFuture::from(p.clone())
                .await
                .map_err(|e| failed(describe(&e)))?;
        }
        let headers = auth_headers(&value).map_err(failed)?;
        *self.auth.borrow_mut() = Some(headers.clone());
        Ok(headers)
    }

    /// URL of the live updates of `stream` (`GET /v2/streams/{id}/live`,
    /// server-sent events).
    pub fn live_url(&self, stream: &str) -> String {
        self.url(&format!("/streams/{}/live", encode(stream)))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{PROTOCOL_VERSION}{path}", self.base)
    }

    fn network(&self, message: String) -> SyncError {
        SyncError::Network {
            backend: self.base.clone(),
            message,
        }
    }

    fn bad(&self, what: &str, message: String) -> SyncError {
        SyncError::BadResponse {
            backend: self.base.clone(),
            what: what.into(),
            message,
        }
    }

    /// One request with the current credentials; on `401` with a
    /// `getAuth`, asks it again and sends the request once more. A `401`
    /// left is [`SyncError::Unauthenticated`], a `403 FORBIDDEN`
    /// [`SyncError::Forbidden`].
    async fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<String>,
    ) -> Result<Answer, SyncError> {
        let headers = self.request_headers().await?;
        let mut answer = self.send(method, url, body.clone(), &headers).await?;
        if answer.status == 401 && self.get_auth.is_some() {
            let mut headers = self.headers.clone();
            headers.extend(self.refresh_auth(AuthReason::Unauthorized).await?);
            answer = self.send(method, url, body, &headers).await?;
        }
        match answer.status {
            401 => Err(SyncError::Unauthenticated {
                backend: self.base.clone(),
                message: error_message(&answer),
            }),
            403 if Self::error_code(&answer).as_deref() == Some("FORBIDDEN") => {
                Err(SyncError::Forbidden {
                    backend: self.base.clone(),
                    message: error_message(&answer),
                })
            }
            _ => Ok(answer),
        }
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<String>,
        extra: &[(String, String)],
    ) -> Result<Answer, SyncError> {
        let js_err = |v: JsValue| self.network(describe(&v));
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(js_err)?;
        headers.set("Accept", "application/json").map_err(js_err)?;
        if let Some(body) = &body {
            headers
                .set("Content-Type", "application/json")
                .map_err(js_err)?;
            init.set_body(&JsValue::from_str(body));
        }
        for (k, v) in extra {
            headers.set(k, v).map_err(js_err)?;
        }
        init.set_headers(&headers);
        if let Some(signal) = timeout_signal(TIMEOUT_MS) {
            init.set_signal(Some(&signal));
        }
        let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(js_err)?;
        let global = js_sys::global();
        let fetch: Function = Reflect::get(&global, &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| self.network("fetch is not available here".into()))?;
        let promise: Promise = fetch
            .call1(&global, &request)
            .map_err(js_err)?
            .dyn_into()
            .map_err(|_| self.network("fetch did not return a promise".into()))?;
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(js_err)?
            .dyn_into()
            .map_err(|_| self.network("fetch did not give a Response".into()))?;
        let status = response.status();
        if let Some(len) = response
            .headers()
            .get("Content-Length")
            .ok()
            .flatten()
            .and_then(|l| l.parse::<u64>().ok())
        {
            if len > u64::from(MAX_BODY) {
                return Err(self.bad(url, format!("body of {len} bytes is above the limit")));
            }
        }
        let text = JsFuture::from(response.text().map_err(js_err)?)
            .await
            .map_err(js_err)?;
        let body = text
            .as_string()
            .ok_or_else(|| self.bad(url, "body is not text".into()))?;
        Ok(Answer { status, body })
    }

    /// `POST url` with `body` (JSON text, if any), its JSON answer; an
    /// error status as the error it stands for.
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        url: &str,
        body: Option<String>,
    ) -> Result<T, SyncError> {
        let answer = self.request("POST", url, body).await?;
        if !ok(answer.status) {
            return Err(self.remote_error(&answer));
        }
        self.parse(url, &answer)
    }

    fn parse<T: DeserializeOwned>(&self, what: &str, answer: &Answer) -> Result<T, SyncError> {
        serde_json::from_str(&answer.body).map_err(|e| {
            self.bad(
                what,
                format!("status {}: not the expected JSON: {e}", answer.status),
            )
        })
    }

    /// An error status as a [`SyncError::RemoteError`], with its body's code.
    fn remote_error(&self, answer: &Answer) -> SyncError {
        let (code, message) = match serde_json::from_str::<ErrorBody>(&answer.body) {
            Ok(b) => (b.code, b.message),
            Err(_) => (String::new(), answer.body.chars().take(200).collect()),
        };
        SyncError::RemoteError {
            backend: self.base.clone(),
            status: answer.status,
            remote_code: code,
            message,
        }
    }

    fn error_code(answer: &Answer) -> Option<String> {
        serde_json::from_str::<ErrorBody>(&answer.body)
            .ok()
            .map(|b| b.code)
    }
}

/// The message of an error answer (its JSON `message`, else the start of
/// the body).
fn error_message(answer: &Answer) -> String {
    match serde_json::from_str::<ErrorBody>(&answer.body) {
        Ok(b) => b.message,
        Err(_) => answer.body.chars().take(200).collect(),
    }
}

/// Most headers one `getAuth` answer may give.
const MAX_AUTH_HEADERS: u32 = 32;

/// The headers of a `getAuth` answer: `{ token }` or `{ headers }`.
fn auth_headers(value: &JsValue) -> Result<Vec<(String, String)>, String> {
    if !value.is_object() {
        return Err("it must return { headers } or { token }".into());
    }
    let token = Reflect::get(value, &"token".into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(t) = token.as_string() {
        return Ok(vec![("Authorization".into(), format!("Bearer {t}"))]);
    }
    let headers = Reflect::get(value, &"headers".into()).unwrap_or(JsValue::UNDEFINED);
    if !headers.is_object() {
        return Err("it must return { headers } (an object of strings) or { token }".into());
    }
    let keys = js_sys::Object::keys(headers.unchecked_ref::<js_sys::Object>());
    if keys.length() > MAX_AUTH_HEADERS {
        return Err(format!("more than {MAX_AUTH_HEADERS} headers"));
    }
    let mut out = Vec::new();
    for k in keys.iter() {
        let name = k.as_string().unwrap_or_default();
        let v = Reflect::get(&headers, &k)
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(|| format!("header {name} is not a string"))?;
        out.push((name, v));
    }
    Ok(out)
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    v.as_string().unwrap_or_else(|| format!("{v:?}"))
}

fn encode(segment: &str) -> String {
    String::from(js_sys::encode_uri_component(segment))
}

/// `AbortSignal.timeout(ms)` where the browser has it.
fn timeout_signal(ms: u32) -> Option<web_sys::AbortSignal> {
    let class = Reflect::get(&js_sys::global(), &"AbortSignal".into()).ok()?;
    let timeout: Function = Reflect::get(&class, &"timeout".into())
        .ok()?
        .dyn_into()
        .ok()?;
    timeout
        .call1(&class, &JsValue::from(ms))
        .ok()?
        .dyn_into()
        .ok()
}

impl Transport for HttpTransport {
    fn backend(&self) -> &str {
        &self.base
    }

    /// Every stream: follows `next` page by page (a server that does not
    /// paginate answers in one page).
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        let mut all: Vec<_> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_STREAM_LIST_PAGES {
            let url = match &after {
                None => self.url("/streams"),
                Some(id) => self.url(&format!("/streams?after={}", encode(id))),
            };
            let answer = self.request("GET", &url, None).await?;
            if !ok(answer.status) {
                return Err(self.remote_error(&answer));
            }
            let page: StreamList = self.parse("GET /streams", &answer)?;
            all.extend(page.streams);
            match page.next {
                None => {
                    return Ok(Some(StreamList {
                        streams: all,
                        next: None,
                    }))
                }
                Some(next) if after.as_ref().is_none_or(|a| next > *a) => after = Some(next),
                Some(next) => {
                    return Err(self.bad(
                        "GET /streams",
                        format!("next {next:?} does not move past the previous page"),
                    ))
                }
            }
        }
        Err(self.bad(
            "GET /streams",
            format!("more than {MAX_STREAM_LIST_PAGES} pages of streams"),
        ))
    }

    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        let url = self.url(&format!("/models/{}", encode(id)));
        let answer = self.request("GET", &url, None).await?;
        if answer.status == 404 {
            return Ok(None);
        }
        if !ok(answer.status) {
            return Err(self.remote_error(&answer));
        }
        self.parse("GET /models", &answer).map(Some)
    }

    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        let url = self.url(&format!("/models/{}", encode(&doc.id)));
        let answer = self.request("PUT", &url, Some(json(doc))).await?;
        if !ok(answer.status) {
            return Err(self.remote_error(&answer));
        }
        Ok(())
    }

    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        let url = self.url(&format!(
            "/streams/{}/events?after={after}&limit={limit}",
            encode(stream)
        ));
        let answer = self.request("GET", &url, None).await?;
        if answer.status == 404 && Self::error_code(&answer).as_deref() == Some("STREAM_NOT_FOUND")
        {
            return Ok(None);
        }
        if !ok(answer.status) {
            return Err(self.remote_error(&answer));
        }
        self.parse("GET /events", &answer).map(Some)
    }

    /// One append; a `413` (more events or bytes than the server takes in
    /// one request: the reference server takes at most 1000 events and
    /// `--max-body-bytes`) splits the batch in halves, sent in order, each
    /// split again on a further 413, down to single events. The answer is
    /// the last part's head with the parts' counts summed; a conflict on a
    /// later part is the round's conflict (the parts already stored are
    /// found again by the next round's pull).
    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        // Parts still to send, the next on top (bounded: every split halves).
        let mut parts: Vec<std::ops::Range<usize>> = Vec::new();
        parts.push(0..request.events.len());
        let mut expected = request.expected.clone();
        let (mut stored, mut duplicates) = (0u64, 0u64);
        let mut head = None;
        while let Some(range) = parts.pop() {
            let part = AppendRequest {
                model: request.model.clone(),
                expected: expected.clone(),
                events: request.events[range.clone()].to_vec(),
            };
            match self.push_once(stream, &part).await? {
                Sent::Outcome(PushOutcome::Appended(ok)) => {
                    stored = stored.saturating_add(ok.stored);
                    duplicates = duplicates.saturating_add(ok.duplicates);
                    if let Some(last) = part.events.last() {
                        expected = petrichain::sync::protocol::Head {
                            seq: last.seq,
                            hash: last.hash.clone(),
                        };
                    }
                    head = Some(ok.head);
                }
                Sent::Outcome(conflict) => return Ok(conflict),
                Sent::TooLarge(_) if range.len() > 1 => {
                    let middle = range.start + range.len() / 2;
                    parts.push(middle..range.end);
                    parts.push(range.start..middle);
                }
                Sent::TooLarge(error) => return Err(error),
            }
        }
        let head = head.ok_or_else(|| self.bad("POST /events", "no part was sent".into()))?;
        Ok(PushOutcome::Appended(AppendOk {
            head,
            stored,
            duplicates,
        }))
    }
}

/// What one `POST .../events` gave.
enum Sent {
    /// An answer the sync client takes as it is.
    Outcome(PushOutcome),
    /// `413`: the batch is too large for the server; the error if it
    /// cannot be split.
    TooLarge(SyncError),
}

impl HttpTransport {
    async fn push_once(&self, stream: &str, request: &AppendRequest) -> Result<Sent, SyncError> {
        let url = self.url(&format!("/streams/{}/events", encode(stream)));
        let answer = self.request("POST", &url, Some(json(request))).await?;
        match answer.status {
            s if ok(s) => self
                .parse::<AppendOk>("POST /events", &answer)
                .map(|ok| Sent::Outcome(PushOutcome::Appended(ok))),
            409 => match serde_json::from_str::<ErrorBody>(&answer.body) {
                Ok(ErrorBody {
                    head: Some(head), ..
                }) => Ok(Sent::Outcome(PushOutcome::Conflict(head))),
                _ => Err(self.bad("POST /events", "409 without the current head".into())),
            },
            413 => Ok(Sent::TooLarge(self.remote_error(&answer))),
            422 => {
                let body: ErrorBody = self.parse("POST /events", &answer)?;
                Err(SyncError::PushRejected {
                    backend: self.base.clone(),
                    stream: stream.into(),
                    remote_code: body.code,
                    message: body.message,
                    seq: body.seq,
                })
            }
            _ => Err(self.remote_error(&answer)),
        }
    }
}
