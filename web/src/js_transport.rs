//! A transport backed by a JS object, so an app can sync
//! through whatever it already has (its own API, a WebSocket, a
//! `BroadcastChannel`...). The object's shape (docs/sync-protocol.md,
//! "JS transport"):
//!
//! ```ts
//! interface SyncTransport {
//!   name?: string;                                     // backend name for sync state (default "js")
//!   pull(stream: string, after: number, limit: number): Promise<EventPage | null>; // null: unknown stream
//!   push(stream: string, request: AppendRequest): Promise<AppendOk | { conflict: Head }>;
//!   getModel?(id: string): Promise<ModelDoc | null>;
//!   putModel?(doc: ModelDoc): Promise<void>;
//!   streams?(): Promise<StreamList>;
//! }
//! ```
//!
//! Values cross as JSON (the protocol's bodies, exactly); functions may
//! return a value or a promise. A function that throws or rejects is a
//! network error (retried), unless what it throws has a numeric HTTP
//! `status`: then it is the backend's refusal, `REMOTE_ERROR` (retried only
//! for 5xx and 429); a value of the wrong shape is `BAD_RESPONSE`.

use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use petrichain::sync::protocol::{AppendOk, AppendRequest, EventPage, Head, ModelDoc, StreamList};
use petrichain::sync::{PushOutcome, SyncError, Transport};

/// A transport whose requests are calls to a JS object's functions.
pub struct JsTransport {
    object: JsValue,
    name: String,
}

/// `push`'s answer: `AppendOk` or `{conflict: Head}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum PushAnswer {
    Conflict { conflict: Head },
    Ok(AppendOk),
}

impl JsTransport {
    /// Wraps `object`; checks that it has `pull` and `push` functions.
    pub fn new(object: JsValue) -> Result<Self, String> {
        if !object.is_object() {
            return Err("transport must be an object with pull and push functions".into());
        }
        for f in ["pull", "push"] {
            let v = Reflect::get(&object, &f.into()).unwrap_or(JsValue::UNDEFINED);
            if !v.is_function() {
                return Err(format!("transport.{f} must be a function"));
            }
        }
        let name = Reflect::get(&object, &"name".into())
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "js".to_string());
        Ok(JsTransport { object, name })
    }

    fn function(&self, name: &str) -> Option<Function> {
        Reflect::get(&self.object, &name.into())
            .ok()
            .and_then(|v| v.dyn_into::<Function>().ok())
    }

    /// What a throw or rejection of the transport means: a refusal of the
    /// backend when the error carries an HTTP `status` (100..=599; its
    /// `code` is the backend's), which is `REMOTE_ERROR` and retried only
    /// for 5xx and 429 like an answer of the fetch transport; anything else
    /// is a network error (retried).
    fn network(&self, what: &str, v: &JsValue) -> SyncError {
        let message = match v.dyn_ref::<js_sys::Error>() {
            Some(e) => String::from(e.message()),
            None => v.as_string().unwrap_or_else(|| format!("{v:?}")),
        };
        let status = v
            .is_object()
            .then(|| Reflect::get(v, &"status".into()).ok())
            .flatten()
            .and_then(|s| s.as_f64())
            .filter(|s| s.fract() == 0.0 && (100.0..=599.0).contains(s));
        if let Some(status) = status {
            let remote_code = Reflect::get(v, &"code".into())
                .ok()
                .and_then(|c| c.as_string())
                .unwrap_or_default();
            return SyncError::RemoteError {
                backend: self.name.clone(),
                // In range 100..=599 and integral: the cast is exact.
                status: status as u16,
                remote_code,
                message: format!("transport.{what} refused: {message}"),
            };
        }
        SyncError::Network {
            backend: self.name.clone(),
            message: format!("transport.{what} failed: {message}"),
        }
    }

    /// Calls `transport.<what>(args...)` and awaits the result.
    async fn call(&self, what: &str, args: &[JsValue]) -> Result<JsValue, SyncError> {
        let f = self.function(what).ok_or_else(|| SyncError::BadResponse {
            backend: self.name.clone(),
            what: what.into(),
            message: format!("transport.{what} is not a function"),
        })?;
        let list: js_sys::Array = args.iter().collect();
        let value = f
            .apply(&self.object, &list)
            .map_err(|e| self.network(what, &e))?;
        JsFuture::from(Promise::resolve(&value))
            .await
            .map_err(|e| self.network(what, &e))
    }

    /// Reads a JS value as `T` through JSON (the protocol's exact shapes).
    fn parse<T: DeserializeOwned>(&self, what: &str, value: &JsValue) -> Result<T, SyncError> {
        crate::js::from_json(value).map_err(|message| SyncError::BadResponse {
            backend: self.name.clone(),
            what: what.into(),
            message: format!("not the expected shape: {message}"),
        })
    }
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    crate::js::to_json(value).unwrap_or(JsValue::NULL)
}

impl Transport for JsTransport {
    fn backend(&self) -> &str {
        &self.name
    }

    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        if self.function("streams").is_none() {
            return Ok(None);
        }
        let v = self.call("streams", &[]).await?;
        self.parse("streams", &v).map(Some)
    }

    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        if self.function("getModel").is_none() {
            return Ok(None);
        }
        let v = self.call("getModel", &[id.into()]).await?;
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        self.parse("getModel", &v).map(Some)
    }

    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        if self.function("putModel").is_none() {
            return Ok(());
        }
        self.call("putModel", &[to_js(doc)]).await.map(|_| ())
    }

    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        let v = self
            .call(
                "pull",
                &[
                    stream.into(),
                    JsValue::from_f64(after as f64),
                    JsValue::from_f64(limit as f64),
                ],
            )
            .await?;
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        self.parse("pull", &v).map(Some)
    }

    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        let v = self.call("push", &[stream.into(), to_js(request)]).await?;
        Ok(match self.parse::<PushAnswer>("push", &v)? {
            PushAnswer::Conflict { conflict } => PushOutcome::Conflict(conflict),
            PushAnswer::Ok(ok) => PushOutcome::Appended(ok),
        })
    }
}
