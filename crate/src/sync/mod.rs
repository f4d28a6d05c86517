//! Sync with HTTP backends (docs/sync-protocol.md): the wire types
//! ([`protocol`]), the client algorithm over a [`Transport`] ([`client`]),
//! the semantic [`rebase`], sync bookkeeping ([`state`]), an in-memory
//! backend ([`MemoryBackend`]) and the continuous-sync [`scheduler`]. The
//! browser transports (fetch, a JS object) live in the web crate
//! (`petrichain-web`).

// Sync errors carry the full chain error of a refused remote event (seq,
// hashes, marking): rare and worth the size.
#![allow(clippy::result_large_err)]

pub mod client;
mod error;
mod memory;
pub mod protocol;
pub mod rebase;
pub mod scheduler;
pub mod state;

pub use client::{
    conflicts, sync, sync_local_and, sync_stream, PushOutcome, StreamFailure, StreamReport,
    SyncEvent, SyncOptions, SyncReport, Transport,
};
pub use error::SyncError;
pub use memory::MemoryBackend;
pub use scheduler::{Kind, Notice, Platform, Schedule, Scheduler, Status};
pub use state::{pending, Backoff};
