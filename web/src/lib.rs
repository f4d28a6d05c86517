//! # petrichain-web
//!
//! The browser edge of [`petrichain`]: the JavaScript bindings (the npm
//! package is built from this cdylib), the IndexedDB store, the fetch and
//! JS-object transports, and the browser adapters of the sync scheduler (Web
//! Locks, `setTimeout`, `online`, `EventSource`) and the device key
//! (WebCrypto Ed25519, `device.rs`). The core crate knows
//! nothing of the browser; everything here is wasm32 only, so natively this
//! crate is empty and `cargo build --workspace` still works.
//!
//! Kept thin: each binding file wraps one domain type of the core, `js.rs`
//! is the one place values cross between JS and Rust, and `error.rs` the one
//! place Rust errors become JS `Error`s.
#![cfg(target_arch = "wasm32")]
#![deny(missing_docs)]
// Sync errors carry the full chain error of a refused remote event (seq,
// hashes, marking): rare and worth the size.
#![allow(clippy::result_large_err)]

#[cfg(feature = "analysis")]
mod analysis;
#[cfg(feature = "sync")]
mod auth;
#[cfg(feature = "sync")]
mod browser;
pub mod device;
mod error;
#[cfg(feature = "formats")]
mod formats;
mod hot;
#[cfg(feature = "sync")]
pub mod http;
mod idb_keys;
pub mod indexeddb;
pub mod js;
#[cfg(feature = "sync")]
pub mod js_transport;
mod ledger;
#[cfg(feature = "sync")]
mod live;
mod model;
mod policy;
mod promise;
#[cfg(feature = "render")]
mod render;
mod store;
mod stream;
#[cfg(feature = "sync")]
mod sync;
#[cfg(feature = "sync")]
mod sync_options;

pub use error::{is_petrichain_error, JsErrorSource};
pub use ledger::{verify_key_proof, verify_place_proof, JsLedger};
pub use model::JsModel;
pub use policy::fingerprint;
pub use store::AnyStore;
pub use stream::JsStream;
#[cfg(feature = "sync")]
pub use sync::JsSyncHandle;
