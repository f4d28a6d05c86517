//! HTTP routes of protocol v2 (docs/sync-protocol.md, paths under
//! `/v2/`, [`PROTOCOL_VERSION`]) and the layers around them: body limit,
//! CORS, one log line per request, JSON 404 / 405, and `410 Gone` for the
//! paths of protocol v1.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, RawQuery, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use petrichain::chain::MAX_ID_BYTES;
use petrichain::formats::json::import_json;
use petrichain::formats::ImportError;
use petrichain::model::Model;
use petrichain::sync::protocol::{
    AppendOk, AppendRequest, EventPage, ModelDoc, StreamInfo, StreamList, DEFAULT_PAGE,
    PROTOCOL_VERSION,
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::append::{lost_race, plan_append, STALE_KEYED_STATE};
use crate::auth::Principal;
use crate::config::{Config, Cors, Hosts};
use crate::error::ApiError;
use crate::keyed_state::{KeyedHead, KeyedStates};
use crate::live::Live;
use crate::model_cache::ModelCache;
use crate::storage::{head_of, Storage};

/// Largest page of `GET /v2/streams`, and its default.
pub const MAX_STREAM_PAGE: u64 = 1000;

/// Largest page of events one pull returns.
pub const MAX_PAGE: u64 = 1000;

/// Most bytes of events one pull returns (past its first event, which is
/// always returned): 4 MiB. With [`MAX_PAGE`] it bounds a pull's memory.
pub const MAX_PAGE_BYTES: usize = 4 << 20;

/// Most validation problems an `INVALID_MODEL` answer lists.
pub const MAX_PROBLEMS: usize = 100;

/// Most events one push (`POST .../events`) may carry; the sync client
/// pushes 500 at a time.
pub const MAX_PUSH_EVENTS: usize = 1000;

/// Deepest nesting of arrays and objects in an event's `payload` JSON.
pub const MAX_PAYLOAD_DEPTH: usize = 64;

/// Most streams kept as altered (refused); past it a further altered
/// stream is still refused at its appends by the head check.
pub const MAX_ALTERED: usize = 100_000;

/// What every handler shares.
pub struct AppState {
    /// The database.
    pub storage: Arc<dyn Storage>,
    /// Models already parsed and compiled, by id, bounded by bytes.
    pub models: ModelCache,
    /// Whether `PUT /v2/models/{id}` may store a new model.
    pub model_uploads: bool,
    /// Stream heads (by stream, the head hash) known to match their last
    /// event: checked once, then kept current by this process's appends.
    checked_heads: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Streams whose storage was found altered (by stream, what was
    /// found): refused with `500 STORAGE_ALTERED` until a restart.
    altered: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The keyed states of stream heads (nets with keyed places).
    pub keyed: KeyedStates,
    /// The live-update hub.
    pub live: Live,
    /// Authentication and per-stream access ([`crate::auth`]).
    pub auth: crate::auth::Auth,
}

impl AppState {
    /// State over `storage`.
    pub fn new(storage: Arc<dyn Storage>) -> AppState {
        AppState {
            storage,
            models: ModelCache::new(crate::model_cache::DEFAULT_CAPACITY),
            model_uploads: true,
            checked_heads: Default::default(),
            altered: Default::default(),
            keyed: KeyedStates::default(),
            live: Live::new(),
            auth: crate::auth::Auth::default(),
        }
    }

    /// Before building on a stream's stored head: the head (seq, hash,
    /// marking) must be what its last event says (same hash; the marking's
    /// Merkle root is the event's `root`), else `500 STORAGE_ALTERED`,
    /// nothing is appended and the stream is no longer served. Checked
    /// once per head: heads this process wrote are known good.
    pub async fn check_head(&self, stream: &str, model: &Model) -> Result<(), ApiError> {
        self.refuse_altered(stream)?;
        match self.head_problem(stream, model).await? {
            None => Ok(()),
            Some(reason) => {
                self.mark_altered(stream, &reason);
                Err(ApiError::StorageAltered {
                    stream: stream.to_string(),
                    reason,
                })
            }
        }
    }

    /// What is wrong with `stream`'s stored head, `None` when it matches
    /// its last event (or could not be read as one pair with it: see
    /// below) and is then remembered as checked.
    pub async fn head_problem(
        &self,
        stream: &str,
        model: &Model,
    ) -> Result<Option<String>, ApiError> {
        let Some(head) = self.storage.head(stream).await? else {
            return Ok(None);
        };
        if head.model != model.id() {
            // The append refuses it with its own answer.
            return Ok(None);
        }
        if self.head_checked(stream, &head.hash) {
            return Ok(None);
        }
        // The head and its last event are read apart: another process may
        // append in between. Check only a pair read as one (the page's head
        // is the head asked for); if the stream keeps moving, leave the
        // check to a later push (heads only move forward through appends
        // that were themselves checked against the chain).
        let mut asked = head.seq;
        let mut found = None;
        for _ in 0..8 {
            let Some(page) = self
                .storage
                .page(stream, asked.saturating_sub(1), 1, usize::MAX)
                .await?
            else {
                return Ok(None);
            };
            if page.head.seq == asked {
                found = Some(page);
                break;
            }
            asked = page.head.seq;
        }
        let Some(page) = found else {
            return Ok(None);
        };
        let head = page.head;
        if head.state.len() != model.places().len() {
            return Ok(Some(format!(
                "the stored head marking has {} places, the model {}",
                head.state.len(),
                model.places().len()
            )));
        }
        if head.seq == 0 {
            if head.state != model.initial_marking().0 {
                return Ok(Some(
                    "the stream has no events but its stored marking is not the initial one".into(),
                ));
            }
        } else {
            let Some(last) = page.events.iter().find(|e| e.seq == head.seq) else {
                return Ok(Some(format!(
                    "the stored head is seq {}, no such event is stored",
                    head.seq
                )));
            };
            if last.hash != head.hash {
                return Ok(Some(format!(
                    "the stored head hash {} is not event {}'s hash {}",
                    head.hash, head.seq, last.hash
                )));
            }
            // The hash covers every field but `sig`: a changed byte of the
            // last event shows here.
            let computed = petrichain::chain::hash::event_hash(last);
            if computed != last.hash {
                return Ok(Some(format!(
                    "event {}'s stored fields hash to {computed}, not to its hash {}",
                    head.seq, last.hash
                )));
            }
            if model.has_keyed_places() {
                // The root covers the keys too, which the stored head does
                // not hold: rebuild them by replaying the chain (verified).
                if let Err(problem) = self
                    .keyed
                    .at_head(self.storage.as_ref(), model, stream)
                    .await?
                {
                    return Ok(Some(problem));
                }
                self.mark_checked(stream, &head.hash);
                return Ok(None);
            }
            let marking = petrichain::engine::Marking(head.state.clone());
            let root = hex::encode(petrichain::chain::MarkingTree::new(model, &marking).root());
            if root != last.root {
                return Ok(Some(format!(
                    "the stored head marking's Merkle root {root} is not event {}'s root {}",
                    head.seq, last.root
                )));
            }
        }
        self.mark_checked(stream, &head.hash);
        Ok(None)
    }

    /// `500 STORAGE_ALTERED` for a stream found altered (at start or by an
    /// append's head check): it is not served, read or written.
    pub fn refuse_altered(&self, stream: &str) -> Result<(), ApiError> {
        let altered = self.altered.lock().unwrap_or_else(|e| e.into_inner());
        match altered.get(stream) {
            None => Ok(()),
            Some(reason) => Err(ApiError::StorageAltered {
                stream: stream.to_string(),
                reason: reason.clone(),
            }),
        }
    }

    /// Stops serving `stream`: its storage does not match its chain.
    pub fn mark_altered(&self, stream: &str, reason: &str) {
        let mut altered = self.altered.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded like the checked heads: one entry per altered stream,
        // and the database holds at most that many streams.
        if altered.len() < MAX_ALTERED {
            altered.insert(stream.to_string(), reason.to_string());
        }
    }

    /// Streams found altered, with what was found, sorted by id.
    pub fn altered_streams(&self) -> Vec<(String, String)> {
        let altered = self.altered.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<_> = altered
            .iter()
            .map(|(s, r)| (s.clone(), r.clone()))
            .collect();
        list.sort();
        list
    }

    fn head_checked(&self, stream: &str, hash: &str) -> bool {
        let heads = self.checked_heads.lock().unwrap_or_else(|e| e.into_inner());
        heads.get(stream).is_some_and(|h| h == hash)
    }

    fn mark_checked(&self, stream: &str, hash: &str) {
        let mut heads = self.checked_heads.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: past 100,000 streams, start over (they are checked again).
        if heads.len() >= 100_000 && !heads.contains_key(stream) {
            heads.clear();
        }
        heads.insert(stream.to_string(), hash.to_string());
    }

    /// A stored model, parsed once and then cached.
    pub async fn model(&self, id: &str) -> Result<Arc<Model>, ApiError> {
        if let Some(m) = self.models.get(id) {
            return Ok(m);
        }
        let json = self
            .storage
            .model(id)
            .await?
            .ok_or_else(|| ApiError::ModelNotFound(id.to_string()))?;
        let (model, _) = import_json(&json)
            .map_err(|e| ApiError::Internal(format!("stored model {id} does not load: {e}")))?;
        if model.id() != id {
            return Err(ApiError::Internal(format!(
                "stored model {id} loads with id {}",
                model.id()
            )));
        }
        let model = Arc::new(model);
        self.models.insert(id, model.clone(), json.len());
        Ok(model)
    }
}

/// The whole application: API routes, static files, layers.
pub fn router(state: Arc<AppState>, config: &Config) -> Router {
    let v = PROTOCOL_VERSION;
    let api = Router::new()
        .route(&format!("/{v}/streams"), get(list_streams))
        .route(
            &format!("/{v}/models/{{id}}"),
            get(get_model).put(put_model),
        )
        .route(
            &format!("/{v}/streams/{{id}}/events"),
            get(pull).post(append),
        )
        .route(&format!("/{v}/streams/{{id}}/live"), get(live))
        .route(
            &format!("/{v}/auth/challenge"),
            axum::routing::post(crate::auth::challenge),
        )
        .route(
            &format!("/{v}/auth/token"),
            axum::routing::post(crate::auth::token),
        )
        .route(&format!("/{v}"), get(not_found))
        .route(
            &format!("/{v}/{{*rest}}"),
            get(not_found).fallback(not_found),
        )
        // The previous protocol's paths, whatever the method: a clear
        // "upgrade" answer rather than a 404.
        .route("/v1", any(protocol_gone))
        .route("/v1/", any(protocol_gone))
        .route("/v1/{*rest}", any(protocol_gone))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ))
        .with_state(state);
    let app = match &config.static_dir {
        Some(dir) => api.fallback_service(crate::static_files::service(dir)),
        None => api.fallback(not_found),
    };
    let limits = BodyLimits {
        max_bytes: config.max_body_bytes,
        timeout: config.body_timeout,
    };
    // Outermost last: the log sees every answer; CORS headers go on the
    // guard's refusals too (so a page can read why); the guard runs before
    // any of the body is read.
    let guard = Arc::new(Guard {
        hosts: config.hosts.clone(),
        cors: config.cors.clone(),
    });
    let app = app
        .layer(middleware::from_fn(move |req, next| {
            read_body(limits, req, next)
        }))
        .layer(middleware::from_fn(move |req, next| {
            guard_request(guard.clone(), req, next)
        }));
    let app = match cors_layer(&config.cors) {
        Some(cors) => app.layer(cors),
        None => app,
    };
    app.layer(middleware::from_fn(refuse_large_headers))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(log_request))
}

/// Header fields a request may carry, in bytes (names and values): a
/// browser's requests, cookies and a bearer token included, stay far below.
/// hyper refuses much larger heads itself, but only when they do not arrive
/// in one read (its buffer limit is checked on an incomplete parse), so
/// this is the limit that always holds.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// `431 HEADERS_TOO_LARGE` (made JSON by [`json_errors`]) past [`MAX_HEADER_BYTES`].
async fn refuse_large_headers(req: Request, next: Next) -> Response {
    let bytes = req.headers().iter().fold(0usize, |sum, (name, value)| {
        sum.saturating_add(name.as_str().len())
            .saturating_add(value.len())
    });
    if bytes > MAX_HEADER_BYTES {
        return StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.into_response();
    }
    next.run(req).await
}

/// Every error answer is JSON: one that is not (a layer's or a service's
/// bare status, e.g. the file server's) gets the JSON body of its status
/// ([`crate::error::status_body`]), its other headers kept.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    if status.is_server_error() {
        tracing::error!("{status} without a JSON body from a layer or service");
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = Json(crate::error::status_body(status)).into_response();
    let (json_parts, body) = body.into_parts();
    for (name, value) in json_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// What [`guard_request`] checks against.
struct Guard {
    hosts: Hosts,
    cors: Cors,
}

/// Refuses requests a browser was tricked into sending. Every request:
/// its `Host` must be one of `--allowed-host` (default: the loopback names
/// and the bound IP), else `421 MISDIRECTED_HOST`: a page of another site
/// whose name was rebound to this address gets nothing, not even a read.
/// Writes (any method but GET, HEAD, OPTIONS) carrying an `Origin`: it must
/// be this server's own origin (`http://` + the Host) or in the CORS list,
/// else `403 FORBIDDEN_ORIGIN`.
async fn guard_request(guard: Arc<Guard>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_string()));
    let Some(host) = host else {
        return ApiError::MisdirectedHost("the request has no Host header".into()).into_response();
    };
    if !guard.hosts.allows(&host) {
        let shown: String = host.chars().take(100).collect();
        return ApiError::MisdirectedHost(format!(
            "this server does not answer for host {shown:?} (see --allowed-host)"
        ))
        .into_response();
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let same_origin = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|o| o.eq_ignore_ascii_case(&host));
            let listed = match &guard.cors {
                Cors::Any => true,
                Cors::SameOrigin => false,
                Cors::Origins(list) => list.iter().any(|o| o == origin),
            };
            if !same_origin && !listed {
                let shown: String = origin.chars().take(100).collect();
                return ApiError::ForbiddenOrigin(format!(
                    "writes from origin {shown:?} are not allowed (see --cors-origin)"
                ))
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// A write's body must be declared JSON: a page of any site may send a
/// `text/plain` POST without asking (no CORS preflight), never an
/// `application/json` one. `415 UNSUPPORTED_MEDIA_TYPE` otherwise.
pub(crate) fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = declared.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        let shown: String = declared.chars().take(100).collect();
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type is {shown:?}: a write's body must be sent as application/json"
        )))
    }
}

/// `--max-body-bytes` and `--body-timeout`.
#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    max_bytes: usize,
    timeout: std::time::Duration,
}

/// Reads the whole request body before routing, bounded in size and time:
/// a declared `Content-Length` above the limit gets `413 TOO_LARGE` at
/// once (nothing is read); a body that grows past the limit, 413 as soon
/// as it does; a body not complete within `--body-timeout`, `408 TIMEOUT`.
/// Handlers then see a body already in memory.
async fn read_body(limits: BodyLimits, req: Request, next: Next) -> Response {
    let declared = req.headers().get(axum::http::header::CONTENT_LENGTH);
    if let Some(value) = declared {
        match value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            Some(n) if n > limits.max_bytes as u64 => {
                return ApiError::TooLarge(format!(
                    "Content-Length {n} is above this server's limit of {} bytes",
                    limits.max_bytes
                ))
                .into_response();
            }
            Some(_) => {}
            // hyper refuses a malformed Content-Length before this runs;
            // kept for any other transport.
            None => {
                return ApiError::BadRequest("Content-Length is not a number".into())
                    .into_response()
            }
        }
    }
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, limits.max_bytes);
    let bytes = match tokio::time::timeout(limits.timeout, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_large {
                ApiError::TooLarge(format!(
                    "request body is above this server's limit of {} bytes",
                    limits.max_bytes
                ))
                .into_response()
            } else {
                ApiError::BadRequest(format!("cannot read the body: {e}")).into_response()
            };
        }
        Err(_) => {
            return ApiError::Timeout(format!(
                "the request body did not arrive within {} s (--body-timeout)",
                limits.timeout.as_secs()
            ))
            .into_response()
        }
    };
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

fn cors_layer(cors: &Cors) -> Option<CorsLayer> {
    let origin = match cors {
        Cors::SameOrigin => return None,
        Cors::Any => AllowOrigin::any(),
        Cors::Origins(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| o.parse().ok())
                .collect::<Vec<_>>(),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::PUT, Method::POST])
            // Mirrors what the page asks for (Authorization and the like,
            // which the `*` wildcard would not cover).
            .allow_headers(AllowHeaders::mirror_request())
            .max_age(std::time::Duration::from_secs(600)),
    )
}

async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let response = next.run(req).await;
    tracing::info!(
        "{method} {target} {} {:.1}ms",
        response.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see docs/sync-protocol.md".into())
}

async fn protocol_gone() -> ApiError {
    ApiError::ProtocolVersion("v1".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

pub(crate) fn json_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge("request body is above this server's limit".into())
        } else {
            ApiError::BadRequest(format!("cannot read the body: {rejection}"))
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))
}

fn path_id(path: Result<Path<String>, PathRejection>, what: &str) -> Result<String, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(ApiError::BadRequest(format!(
            "{what} id must be 1 to {MAX_ID_BYTES} bytes"
        )));
    }
    Ok(id)
}

/// `after` and `limit` of a stream listing (`after` percent-decoded).
#[derive(Debug, serde::Deserialize)]
struct StreamsQuery {
    #[serde(default)]
    after: String,
    limit: Option<u64>,
}

/// `GET /v2/streams?after=&limit=`: at most `limit` streams (default and
/// cap [`MAX_STREAM_PAGE`]) sorted by id after `after`; `next` when more
/// follow.
async fn list_streams(
    State(app): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    query: Result<Query<StreamsQuery>, QueryRejection>,
) -> Result<Json<StreamList>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query: {}", e.body_text())))?;
    let limit = match q.limit {
        Some(0) => return Err(ApiError::BadRequest("limit must be at least 1".into())),
        Some(n) => n.min(MAX_STREAM_PAGE),
        None => MAX_STREAM_PAGE,
    };
    if q.after.len() > MAX_ID_BYTES {
        return Err(ApiError::BadRequest(format!(
            "after must be a stream id, at most {MAX_ID_BYTES} bytes"
        )));
    }
    let (heads, next) = if app.auth.reads_all(&who)? {
        // One more than asked for says whether more follow.
        let mut heads = app
            .storage
            .streams(&q.after, limit.saturating_add(1))
            .await?;
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if heads.len() > keep {
            heads.truncate(keep);
            heads.last().map(|h| h.id.clone())
        } else {
            None
        };
        (heads, next)
    } else {
        // A key sees only the streams it is a member of.
        visible_streams(&app, &who, &q.after, limit).await?
    };
    Ok(Json(StreamList {
        streams: heads
            .into_iter()
            .map(|h| StreamInfo {
                head: head_of(&h),
                id: h.id,
                model: h.model,
            })
            .collect(),
        next,
    }))
}

async fn get_model(
    State(app): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ModelDoc>, ApiError> {
    let id = path_id(path, "model")?;
    // Models are content-addressed and shared by streams: any
    // authenticated caller may read them.
    if !app.auth.reads_all(&who)? {
        app.auth.check_writer(&who)?;
    }
    match app.storage.model(&id).await? {
        Some(json) => Ok(Json(ModelDoc { id, json })),
        None => Err(ApiError::ModelNotFound(id)),
    }
}

async fn put_model(
    State(app): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    path: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = path_id(path, "model")?;
    app.auth.check_writer(&who)?;
    require_json(&headers)?;
    let doc: ModelDoc = json_body(body)?;
    if doc.id != id {
        return Err(ApiError::ModelIdMismatch(format!(
            "the path names model {id}, the body {}",
            doc.id
        )));
    }
    let digest = hex::encode(Sha256::digest(doc.json.as_bytes()));
    if digest != id {
        return Err(ApiError::ModelIdMismatch(format!(
            "SHA-256 of json is {digest}, not {id}"
        )));
    }
    if !app.model_uploads {
        // Idempotent for what is stored; nothing new.
        if app.storage.model(&id).await?.is_some() {
            return Ok((StatusCode::OK, Json(serde_json::json!({ "id": id }))).into_response());
        }
        return Err(ApiError::ModelUploadsClosed(
            "this server takes no new models (--no-model-uploads); ask its operator".into(),
        ));
    }
    let model = match import_json(&doc.json) {
        Ok((model, _warnings)) => model,
        Err(ImportError::Invalid(e)) => {
            // The first problems only: an answer is bounded whatever the
            // model holds.
            let shown = &e.problems[..e.problems.len().min(MAX_PROBLEMS)];
            let message = if e.problems.len() > MAX_PROBLEMS {
                format!(
                    "invalid model: {} problems, the first {MAX_PROBLEMS} listed",
                    e.problems.len()
                )
            } else {
                e.to_string()
            };
            return Err(ApiError::InvalidModel {
                problems: serde_json::to_value(shown).unwrap_or_default(),
                message,
            });
        }
        Err(e) => {
            return Err(ApiError::InvalidModel {
                problems: serde_json::json!([e]),
                message: format!("the model does not load: {e}"),
            })
        }
    };
    if model.id() != id {
        let problem = format!(
            "json is not the model's canonical JSON (docs/model-format.md): it loads as model {}",
            model.id()
        );
        return Err(ApiError::InvalidModel {
            problems: serde_json::json!([{ "code": "NOT_CANONICAL", "message": problem }]),
            message: problem,
        });
    }
    let created = app.storage.put_model(&doc.id, &doc.json).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(serde_json::json!({ "id": id }))).into_response())
}

/// Most streams one listing by a key looks at to find the ones it may
/// see; past it the page ends early, `next` saying where to go on.
pub const MAX_STREAMS_SCANNED: u64 = 10 * MAX_STREAM_PAGE;

/// The streams after `after` that `who` (a key) is a member of, up to
/// `limit`, and the id to list after for the next page. Others' streams
/// are never shown, not even as a cursor; so a listing that looks at
/// [`MAX_STREAMS_SCANNED`] streams without filling its page or reaching
/// the end is refused (`503 OVERLOADED`) rather than cut at a private id.
async fn visible_streams(
    app: &AppState,
    who: &Principal,
    after: &str,
    limit: u64,
) -> Result<(Vec<petrichain::store::StreamRecord>, Option<String>), ApiError> {
    let want = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut found: Vec<petrichain::store::StreamRecord> = Vec::new();
    let mut cursor = after.to_string();
    let mut scanned = 0u64;
    while scanned < MAX_STREAMS_SCANNED {
        let batch = app.storage.streams(&cursor, MAX_STREAM_PAGE).await?;
        let full = batch.len() as u64 == MAX_STREAM_PAGE;
        for h in batch {
            scanned = scanned.saturating_add(1);
            cursor = h.id.clone();
            if app.auth.lists(app.storage.as_ref(), who, &h.id).await? {
                if found.len() >= want {
                    // One more visible: the page is full, more follow.
                    let next = found.last().map(|h| h.id.clone());
                    return Ok((found, next));
                }
                found.push(h);
            }
        }
        if !full {
            return Ok((found, None));
        }
    }
    Err(ApiError::Overloaded(format!(
        "listing looked at {MAX_STREAMS_SCANNED} streams without reaching the end; \
         list with a later `after` (the last id returned) or ask the operator"
    )))
}

/// `after` and `limit` of a pull.
fn page_query(query: Option<&str>) -> Result<(u64, u64), ApiError> {
    let (mut after, mut limit) = (0u64, DEFAULT_PAGE);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = || {
            value.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!("{key}={value}: expected a non-negative integer"))
            })
        };
        match key {
            "after" => after = number()?,
            "limit" => {
                limit = number()?;
                if limit == 0 {
                    return Err(ApiError::BadRequest("limit must be at least 1".into()));
                }
            }
            _ => {}
        }
    }
    Ok((after, limit.min(MAX_PAGE)))
}

async fn pull(
    State(app): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<EventPage>, ApiError> {
    let stream = path_id(path, "stream")?;
    app.auth
        .check_read(app.storage.as_ref(), &who, &stream)
        .await?;
    app.refuse_altered(&stream)?;
    let (after, limit) = page_query(query.as_deref())?;
    let page = app
        .storage
        .page(&stream, after, limit, MAX_PAGE_BYTES)
        .await?
        .ok_or_else(|| ApiError::StreamNotFound(stream.clone()))?;
    Ok(Json(EventPage {
        stream,
        head: head_of(&page.head),
        model: page.head.model,
        events: page.events,
        more: page.more,
    }))
}

async fn append(
    State(app): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    path: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AppendOk>, ApiError> {
    let stream = path_id(path, "stream")?;
    app.auth.check_writer(&who)?;
    require_json(&headers)?;
    let req: AppendRequest = json_body(body)?;
    check_push_shape(&req)?;
    app.auth
        .check_append(app.storage.as_ref(), &who, &stream, &req.events)
        .await?;
    let model = app.model(&req.model).await?;
    app.check_head(&stream, &model).await?;
    let mut tries = 0;
    let (decision, state) = loop {
        tries += 1;
        let base = if model.has_keyed_places() || needs_policy(&req.events) {
            // A lost race is a 409 before the keyed head is read and copied.
            let stored = app.storage.head(&stream).await?;
            if let Some(head) = lost_race(&req, stored.as_ref()) {
                return Err(ApiError::HeadMismatch(head));
            }
            keyed_base(&app, &model, &stream).await?
        } else {
            None
        };
        let mut answer = None;
        let appended = app
            .storage
            .append(&stream, &mut |tx| {
                let d = plan_append(&model, &stream, &req, base.as_ref(), tx)?;
                answer = Some((d.answer, d.state));
                Ok(d.commit)
            })
            .await;
        match appended {
            // Another process appended since the keyed state was read:
            // read it again (a few times; then the client retries).
            Err(ApiError::Internal(m)) if m == STALE_KEYED_STATE && tries < 3 => continue,
            Err(e) => return Err(e),
            Ok(_) => {
                break answer.ok_or_else(|| ApiError::Internal("append decided nothing".into()))?
            }
        }
    };
    if let (Some(state), true) = (state, decision.stored > 0) {
        app.keyed.remember(
            &stream,
            KeyedHead {
                seq: decision.head.seq,
                hash: decision.head.hash.clone(),
                state,
            },
        );
    }
    if decision.stored > 0 {
        app.mark_checked(&stream, &decision.head.hash);
        app.live.publish(&stream, decision.head.clone());
    }
    Ok(Json(decision))
}

/// Whether checking `events` needs the stream's policy (who holds which
/// role), which the stored head does not keep: a policy entry, or an event
/// claiming roles. Other events never consult it, so they resume from the
/// stored marking alone (docs/server.md, "Grants").
fn needs_policy(events: &[petrichain::chain::Event]) -> bool {
    events
        .iter()
        .any(|e| !e.roles.is_empty() || petrichain::chain::policy::is_reserved(&e.action))
}

/// The keyed state of `stream`'s stored head (`None`: no such stream); a
/// stored chain that does not verify is `500 STORAGE_ALTERED`.
async fn keyed_base(
    app: &AppState,
    model: &Model,
    stream: &str,
) -> Result<Option<KeyedHead>, ApiError> {
    match app
        .keyed
        .at_head(app.storage.as_ref(), model, stream)
        .await?
    {
        Ok(found) => Ok(found.map(|(_, k)| k)),
        Err(reason) => {
            app.mark_altered(stream, &reason);
            Err(ApiError::StorageAltered {
                stream: stream.to_string(),
                reason,
            })
        }
    }
}

/// The caps a push must fit before anything is looked up: at most
/// [`MAX_PUSH_EVENTS`] events (`413 TOO_LARGE`, split the batch), payloads
/// nested at most [`MAX_PAYLOAD_DEPTH`] deep (`422 INVALID_EVENT`, reason
/// `PAYLOAD_TOO_DEEP`: every client parsing it later would recurse that deep).
fn check_push_shape(req: &AppendRequest) -> Result<(), ApiError> {
    if req.events.len() > MAX_PUSH_EVENTS {
        return Err(ApiError::TooLarge(format!(
            "{} events in one push; at most {MAX_PUSH_EVENTS} (split the batch)",
            req.events.len()
        )));
    }
    for e in &req.events {
        let depth = json_depth(&e.payload);
        if depth > MAX_PAYLOAD_DEPTH {
            let message = format!(
                "payload nested {depth} deep; at most {MAX_PAYLOAD_DEPTH} levels of arrays and objects"
            );
            return Err(ApiError::InvalidEvent {
                seq: e.seq,
                reason: serde_json::json!({
                    "code": "PAYLOAD_TOO_DEEP",
                    "seq": e.seq,
                    "depth": depth,
                    "limit": MAX_PAYLOAD_DEPTH,
                }),
                message,
            });
        }
    }
    Ok(())
}

/// The deepest nesting of `[` / `{` in JSON text, outside strings: one
/// linear pass, no recursion, no allocation.
fn json_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

async fn live(
    State(app): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let stream = path_id(path, "stream")?;
    app.auth
        .check_read(app.storage.as_ref(), &who, &stream)
        .await?;
    app.refuse_altered(&stream)?;
    if app.storage.head(&stream).await?.is_none() {
        return Err(ApiError::StreamNotFound(stream));
    }
    Ok(app
        .live
        .subscribe(stream, app.storage.clone())?
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_counts_nesting_outside_strings() {
        assert_eq!(json_depth("null"), 0);
        assert_eq!(json_depth(r#"{"a":[1,{"b":[]}]}"#), 4);
        assert_eq!(json_depth(r#"["[[[[", "\"[[", {}]"#), 2);
        assert_eq!(json_depth(&"[".repeat(100_000)), 100_000);
        assert_eq!(
            json_depth(&format!("{}{}", "[".repeat(64), "]".repeat(64))),
            64
        );
    }

    #[test]
    fn page_query_defaults_and_caps() {
        assert_eq!(page_query(None).unwrap(), (0, DEFAULT_PAGE));
        assert_eq!(page_query(Some("after=7&limit=5")).unwrap(), (7, 5));
        assert_eq!(page_query(Some("limit=999999")).unwrap(), (0, MAX_PAGE));
        assert_eq!(page_query(Some("x=1&&after=2")).unwrap(), (2, DEFAULT_PAGE));
        for bad in [
            "limit=0",
            "after=-1",
            "after=abc",
            "limit=",
            "after=99999999999999999999",
        ] {
            assert_eq!(
                page_query(Some(bad)).unwrap_err().code(),
                "BAD_REQUEST",
                "{bad}"
            );
        }
    }
}
