//! The browser under the core's sync [`Scheduler`](petrichain::sync::Scheduler):
//! `Date.now()`, `setTimeout`, the Web Locks API (one tab syncs at a time),
//! `Math.random()` for the backoff's jitter, `navigator.onLine`, and JS
//! callbacks as listeners.

use std::future::Future;

use js_sys::{Function, Promise, Reflect};
use petrichain::chain::ChainError;
use petrichain::sync::scheduler::Task;
use petrichain::sync::{Notice, Platform, SyncError};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::to_js_error;
use crate::js::{conflict_to_js, to_json};
use crate::promise::promise;

/// The platform of a JS sync handle: its Web Lock's name.
pub(crate) struct Browser {
    /// `petrichain-sync:<store>:<backend>`.
    pub lock: String,
}

/// `globalThis.a.b...`, if every step is there.
pub(crate) fn global_get(path: &[&str]) -> Option<JsValue> {
    let mut v: JsValue = js_sys::global().into();
    for key in path {
        v = Reflect::get(&v, &(*key).into()).ok()?;
        if v.is_undefined() || v.is_null() {
            return None;
        }
    }
    Some(v)
}

/// A function of the global object (`addEventListener`, `setTimeout`...).
pub(crate) fn global_fn(path: &[&str]) -> Option<Function> {
    global_get(path).and_then(|f| f.dyn_into::<Function>().ok())
}

fn storage(message: String) -> SyncError {
    SyncError::Local(ChainError::Storage { message })
}

impl Platform for Browser {
    type Listener = Function;

    fn now(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn sleep(&self, ms: u32) -> impl Future<Output = ()> {
        let promise = Promise::new(&mut |resolve, _| {
            if let Some(set_timeout) = global_fn(&["setTimeout"]) {
                let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
            }
        });
        async move {
            let _ = JsFuture::from(promise).await;
        }
    }

    /// Under `navigator.locks.request(name, ...)` when the browser has Web
    /// Locks (other tabs wait), directly otherwise.
    async fn exclusive(&self, task: Task) -> Result<(), SyncError> {
        let locks = global_get(&["navigator", "locks"]);
        let request = locks
            .as_ref()
            .and_then(|l| Reflect::get(l, &"request".into()).ok())
            .and_then(|f| f.dyn_into::<Function>().ok());
        let (Some(locks), Some(request)) = (locks, request) else {
            task.await;
            return Ok(());
        };
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            promise(async move {
                task.await;
                Ok(JsValue::UNDEFINED)
            })
        });
        let promise = request
            .call2(&locks, &self.lock.as_str().into(), &callback)
            .ok()
            .and_then(|p| p.dyn_into::<Promise>().ok())
            .ok_or_else(|| storage("navigator.locks.request did not return a promise".into()))?;
        JsFuture::from(promise)
            .await
            .map(|_| ())
            .map_err(|e| storage(format!("Web Locks request failed: {e:?}")))
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn offline(&self) -> Option<String> {
        let offline = global_get(&["navigator", "onLine"]).and_then(|v| v.as_bool()) == Some(false);
        offline.then(|| "the browser is offline".into())
    }

    fn deliver(&self, listeners: &[Function], notice: &Notice<'_>) {
        let value = match notice {
            Notice::Progress(event) => to_json(event).ok(),
            Notice::Conflict(conflict) => conflict_to_js(conflict).ok(),
            Notice::Error(error) => Some(to_js_error(*error)),
            Notice::Status(status) => Some(status.as_str().into()),
        };
        if let Some(value) = value {
            call_all(listeners, &value);
        }
    }
}

/// Calls each listener with `value`; a throwing callback must not break the sync.
pub(crate) fn call_all(listeners: &[Function], value: &JsValue) {
    for f in listeners {
        let _ = f.call1(&JsValue::NULL, value);
    }
}
