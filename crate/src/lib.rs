//! # petrichain
//!
//! A Petri-net engine whose nets decide which events are legal. Legal events
//! are appended to a hash-chained log; nets render as SVG; logs sync to any
//! HTTP backend. This crate is the core: it knows nothing of the browser and
//! runs the same natively (server, CLI, tests) and in WebAssembly.
//!
//! ```
//! use petrichain::{formats::json::import_json, FireOptions};
//!
//! let (model, _warnings) = import_json(r#"{
//!   "places": [{"id": "account", "initial": 100}, {"id": "paid", "capacity": 50}],
//!   "transitions": [{"id": "pay", "roles": ["clerk"]}],
//!   "arcs": [{"source": "account", "target": "pay"}, {"source": "pay", "target": "paid"}]
//! }"#).unwrap();
//!
//! // Pay 30 at once, as a clerk.
//! let m = model.fire(&model.initial_marking(), "pay", &FireOptions { multiple: 30, roles: &["clerk"] }).unwrap();
//! assert_eq!(model.marking_map(&m)["paid"], 30);
//!
//! // Paying 30 more would break the capacity of "paid"; the error says so.
//! let err = model.fire(&m, "pay", &FireOptions { multiple: 30, roles: &["clerk"] }).unwrap_err();
//! assert_eq!(err.code(), "CAPACITY_EXCEEDED");
//! ```
//!
//! Modules, one concern each: [`model`] (types, validation, canonical JSON and
//! id), [`engine`] (firing), [`formats`] (import / export), [`render`] (SVG),
//! [`chain`] (events, hashing, verification), [`store`] (the ledger over a
//! store), [`sync`] (sync protocol, client and scheduler), [`analysis`]
//! (invariants, state spaces, deadlocks, log analysis), [`error_codes`]
//! (every error code, once).
#![deny(missing_docs)]

pub mod analysis;
pub mod chain;
pub mod engine;
pub mod error_codes;
pub mod formats;
pub mod model;
pub mod render;
pub mod store;
pub mod sync;

pub use engine::{FireError, FireOptions, Marking, RoleSet};
pub use error_codes::{is_error_code, ERROR_CODES, ERROR_CODE_TS};
pub use model::{
    Arc, ArcKey, ArcKind, Model, ModelData, ModelError, Place, Point, Transition, MAX_KEY_BYTES,
    MAX_PARAMS, MAX_TOKENS,
};

/// The Rust examples of docs/*.md, compiled and run by `cargo test --doc`
/// (scripts/ci/doc-examples.mjs checks that every markdown file with a
/// `rust` block is listed here).
#[cfg(doctest)]
mod doc_examples {
    #[doc = include_str!("../../docs/analysis.md")]
    struct Analysis;
    #[doc = include_str!("../../docs/formats.md")]
    struct Formats;
    #[doc = include_str!("../../docs/rendering.md")]
    struct Rendering;
    #[doc = include_str!("../../docs/storage.md")]
    struct Storage;
}
