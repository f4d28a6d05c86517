//! Sync with HTTP backends (docs/sync-protocol.md): the wire types
//! ([`protocol`]), the client algorithm over a [`Transport`] ([`client`]),
//! the semantic [`rebase`], sync bookkeeping ([`state`]), an in-memory
//! backend ([`MemoryBackend`]) and, in wasm32, the fetch transport
//! (`http`) and the JS-object transport (`js_transport`), modules that exist
//! only there.

// Sync errors carry the full chain error of a refused remote event (seq,
// hashes, marking): rare and worth the size.
#![allow(clippy::result_large_err)]

pub mod client;
mod error;
mod memory;
pub mod protocol;
pub mod rebase;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod http;
#[cfg(target_arch = "wasm32")]
pub mod js_transport;

pub use client::{
    conflicts, sync, sync_stream, PushOutcome, StreamFailure, StreamReport, SyncEvent, SyncOptions,
    SyncReport, Transport,
};
pub use error::SyncError;
pub use memory::MemoryBackend;
pub use state::{pending, Backoff};
