//! Bindings of `hot.js`: the IndexedDB paths that cost less in JS than as
//! per-event wasm <-> JS crossings. Loads: each stored line parsed once, in
//! JS, instead of decoded into wasm, parsed, re-encoded and parsed again.
//! Appends: a batch's records built in one call, and the lines they store
//! parsed once for the append's result instead of encoding the events again.

use petrichain::chain::{ChainError, Event};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/hot.js")]
extern "C" {
    #[wasm_bindgen(js_name = openRaw)]
    fn open_raw(name: &str, on_version_change: &js_sys::Function) -> js_sys::Promise;
    #[wasm_bindgen(js_name = eventRecords)]
    fn event_records(stream: &str, first: f64, hashes: &str, lines: &str) -> js_sys::Array;
    #[wasm_bindgen(js_name = eventsFromRecords, catch)]
    fn events_from_records_js(records: &js_sys::Array) -> Result<JsValue, JsValue>;
    /// `beginOnHead` of `hot.js`: a readwrite transaction of connection
    /// `db` (over `meta` too with `meta`) that reads the head of stream `id`
    /// now, for a [`commit_on_head`] made later in the same task to write on
    /// while it is still active. Undefined if the connection is closed.
    #[wasm_bindgen(js_name = beginOnHead)]
    pub(crate) fn begin_on_head(db: &JsValue, id: &str, meta: bool) -> JsValue;
    #[wasm_bindgen(js_name = commitOnHead)]
    fn commit_on_head_js(
        db: &JsValue,
        expected: &JsValue,
        records: &js_sys::Array,
        head: &JsValue,
        chunks: &js_sys::Array,
        begun: &JsValue,
    ) -> js_sys::Promise;
    #[wasm_bindgen(js_name = headRecord)]
    pub(crate) fn head_record(
        id: &str,
        model: &str,
        seq: f64,
        hash: &str,
        state: Option<String>,
        places: Option<f64>,
        policy: Option<String>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = closeRaw)]
    pub(crate) fn close_raw(db: &JsValue);
    #[wasm_bindgen(js_name = loadEvents)]
    fn load_events(
        db: &JsValue,
        stream: &str,
        after: f64,
        limit: u32,
        text: bool,
    ) -> js_sys::Promise;
}

/// What a rejection of `hot.js` means, as a [`ChainError`].
fn error(stream: &str, e: JsValue) -> ChainError {
    let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).unwrap_or(JsValue::UNDEFINED);
    if get("unknown").is_truthy() {
        return ChainError::UnknownStream {
            stream: stream.into(),
        };
    }
    if get("name").as_string().as_deref() == Some("QuotaExceededError") {
        return ChainError::QuotaExceeded {
            message: get("message").as_string().unwrap_or_default(),
        };
    }
    if let Some(key) = get("corrupt").as_string() {
        return ChainError::CorruptRecord {
            store: "events".into(),
            key,
            message: get("message").as_string().unwrap_or_default(),
        };
    }
    let message = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| get("message").as_string())
        .unwrap_or_else(|| "IndexedDB request failed".into());
    ChainError::Storage { message }
}

/// The events of records built by [`records`], as the JS API gives them.
pub(crate) fn events_from_records(records: &js_sys::Array) -> Result<JsValue, ChainError> {
    events_from_records_js(records).map_err(|e| error("", e))
}

/// A second connection to database `name` (created by the first).
pub(crate) async fn open(
    name: &str,
    on_version_change: &js_sys::Function,
) -> Result<JsValue, ChainError> {
    JsFuture::from(open_raw(name, on_version_change))
        .await
        .map_err(|e| error(name, e))
}

/// What [`commit_on_head`] did.
pub(crate) enum OnHead {
    /// The stored head was not the expected one (or the connection is
    /// gone): nothing written.
    Moved,
    /// Written; with the records' events as the JS API gives them (parsed
    /// while the browser wrote), unless they could not be parsed.
    Committed(Option<JsValue>),
}

/// `commitOnHead` of `hot.js`: in one readwrite transaction of connection
/// `db` (`begun` of [`begin_on_head`] if still active, else a new one), reads the
/// stored head and writes `records`, `head` and `chunks` (the marking
/// chunks that changed) without waiting for it; commits if the stored head
/// is exactly `expected`, else aborts.
pub(crate) async fn commit_on_head(
    db: &JsValue,
    expected: &JsValue,
    records: &js_sys::Array,
    head: &JsValue,
    chunks: &js_sys::Array,
    begun: &JsValue,
) -> Result<OnHead, ChainError> {
    let promise = commit_on_head_js(db, expected, records, head, chunks, begun);
    let done = JsFuture::from(promise).await.map_err(|e| error("", e))?;
    Ok(match done.as_bool() {
        Some(false) => OnHead::Moved,
        Some(true) => OnHead::Committed(None),
        None => OnHead::Committed(Some(done)),
    })
}

/// `loadEvents` of `hot.js`: the events of `stream` after `after`, at most
/// `limit`, as the API's values (payloads as text with `text`).
pub(crate) async fn events(
    db: &JsValue,
    stream: &str,
    after: u64,
    limit: Option<u32>,
    text: bool,
) -> Result<JsValue, ChainError> {
    if limit == Some(0) {
        return Ok(js_sys::Array::new().into());
    }
    let promise = load_events(db, stream, after as f64, limit.unwrap_or(0), text);
    JsFuture::from(promise).await.map_err(|e| error(stream, e))
}

/// The IndexedDB records of `events`, which must be consecutive events of
/// one stream, built in one call (their JSON lines cross as one string):
/// blocks of at most 256 events (`eventRecords` of `hot.js`), each
/// `{stream, seq, hash, json}` with the first event's seq, the hashes end to
/// end and the lines joined by "\n". Empty for no events.
pub(crate) fn records(events: &[Event]) -> Result<js_sys::Array, ChainError> {
    let Some(first) = events.first() else {
        return Ok(js_sys::Array::new());
    };
    let mut lines = Vec::with_capacity(events.len() * 768);
    let mut hashes = String::with_capacity(events.len() * 64);
    for (i, e) in events.iter().enumerate() {
        let consecutive =
            e.stream == first.stream && Some(e.seq) == first.seq.checked_add(i as u64);
        if !consecutive || e.hash.len() != 64 {
            return Err(ChainError::Storage {
                message: "events to store must be consecutive, of one stream, with 64-digit hashes"
                    .into(),
            });
        }
        if i > 0 {
            lines.push(b'\n');
        }
        serde_json::to_writer(&mut lines, e).map_err(|e| ChainError::Storage {
            message: format!("cannot encode event: {e}"),
        })?;
        hashes.push_str(&e.hash);
    }
    // serde_json writes UTF-8 (and escapes every newline inside strings).
    let lines = String::from_utf8(lines).map_err(|e| ChainError::Storage {
        message: e.to_string(),
    })?;
    Ok(event_records(
        &first.stream,
        first.seq as f64,
        &hashes,
        &lines,
    ))
}
