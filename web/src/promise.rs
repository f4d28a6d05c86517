//! The one way an async binding becomes a JS `Promise`.
//!
//! `future_to_promise` is generic over the future: called directly, each
//! binding gets its own copy of the promise executor, the task spawn and the
//! resolve / reject code around its body. Boxing the body first leaves one
//! copy of all that, for `Pin<Box<dyn Future>>` (16.8 KB less wasm, 5.9 KB
//! gzipped, in `petrichain/core`: BENCHMARKS.md); the cost is one allocation
//! per call, next to the IndexedDB or network work every async binding does.

use std::future::Future;
use std::pin::Pin;

use js_sys::Promise;
use wasm_bindgen::JsValue;

/// What an async binding computes: its value, or the JS error it throws.
type Body = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// A `Promise` that resolves to what `body` returns, or rejects with its
/// error; `body` runs on the page's microtask queue
/// (`wasm_bindgen_futures::future_to_promise`).
pub(crate) fn promise(body: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    boxed(Box::pin(body))
}

// Not inlined, so that the bindings share it (the wasm build inlines across
// crates by default: scripts/wasm-env.sh).
#[inline(never)]
fn boxed(body: Body) -> Promise {
    wasm_bindgen_futures::future_to_promise(body)
}
