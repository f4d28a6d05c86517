//! Where the server keeps models, stream heads and events.
//!
//! A backend implements [`Storage`]; [`sqlite::SqliteStorage`] is the
//! default, [`postgres::PostgresStorage`] serves several processes sharing
//! one PostgreSQL (or CockroachDB) database. [`open`] picks one by the
//! configured [`Database`]. What both share (schema version, column lists,
//! row decoding, paging, integer conversions) is written once in [`rows`];
//! heads and commits are the core crate's own
//! [`StreamRecord`] and [`Commit`].
//! The protocol logic (duplicates, head check, verification) lives once in
//! [`crate::append`] and runs inside [`Storage::append`]'s write transaction
//! through the small [`AppendTx`] view, so a backend only has to provide
//! the transaction (`SELECT ... FOR UPDATE` on the stream row on
//! PostgreSQL, `BEGIN IMMEDIATE` on SQLite).
//!
//! Calls are async. PostgreSQL is async itself (`tokio-postgres` behind a
//! `deadpool-postgres` pool); SQLite is synchronous and runs off the async
//! workers (see [`blocking`]).

pub mod postgres;
pub mod rows;
pub mod sqlite;

use std::sync::Arc;

use petrichain::chain::Event;
pub use petrichain::store::{Commit, StreamRecord};
use petrichain::sync::protocol::Head;

use crate::config::{Config, Database};
use crate::error::ApiError;

/// Opens (creating and migrating it if needed) the database `config` names.
pub async fn open(config: &Config) -> Result<Arc<dyn Storage>, ApiError> {
    Ok(match &config.db {
        Database::Sqlite(path) => {
            let (path, synchronous) = (path.clone(), config.synchronous);
            let db = tokio::task::spawn_blocking(move || {
                sqlite::SqliteStorage::open_with(&path, synchronous)
            })
            .await
            .map_err(|e| rows::internal("opening the database", e))??;
            Arc::new(db)
        }
        Database::Postgres(url) => {
            Arc::new(postgres::PostgresStorage::open(url, config.db_connections).await?)
        }
    })
}

/// A stream's head as the protocol states it (seq and hash).
pub fn head_of(record: &StreamRecord) -> Head {
    Head {
        seq: record.seq,
        hash: record.hash.clone(),
    }
}

/// Runs synchronous database work without stalling the async workers: on
/// tokio's multi-threaded runtime (the server's) the worker first hands its
/// other tasks to another thread (`block_in_place`); anywhere else (a
/// current-thread runtime, no runtime) it simply runs.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A page of events read in one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The stream's head when the page was read.
    pub head: StreamRecord,
    /// Events with seq > after, in order.
    pub events: Vec<Event>,
    /// More events follow the last one returned.
    pub more: bool,
}

/// What the append logic may read inside the write transaction.
pub trait AppendTx {
    /// The stream's head, `None` if the stream does not exist.
    fn head(&mut self) -> Result<Option<StreamRecord>, ApiError>;
    /// Hash of the stored event at `seq`, if any.
    fn hash_at(&mut self, seq: u64) -> Result<Option<String>, ApiError>;
}

/// The plan run inside [`Storage::append`]: reads through the view and
/// returns what to write (`None`: nothing), or an error to write nothing.
/// A backend may run it more than once (a lost race): it must be pure.
pub type Plan<'a> = dyn FnMut(&mut dyn AppendTx) -> Result<Option<Commit>, ApiError> + Send + 'a;

/// A storage backend.
#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Stores a model's canonical JSON; `true` if it was new (idempotent).
    async fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError>;
    /// A model's canonical JSON.
    async fn model(&self, id: &str) -> Result<Option<String>, ApiError>;
    /// A stream's head.
    async fn head(&self, stream: &str) -> Result<Option<StreamRecord>, ApiError>;
    /// The heads of the streams whose id sorts after `after` (`""`: from
    /// the first), sorted by id, at most `limit` of them.
    async fn streams(&self, after: &str, limit: u64) -> Result<Vec<StreamRecord>, ApiError>;
    /// Up to `limit` events after `after`, with the head, in one snapshot;
    /// `None` if the stream does not exist. Past the first event, the page
    /// ends before the event that would take it over `max_bytes`
    /// ([`rows::PageRows`]): rows are read one by one and reading stops
    /// there, so a pull holds at most `max_bytes` plus one event.
    async fn page(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
        max_bytes: usize,
    ) -> Result<Option<Page>, ApiError>;
    /// In one write transaction that excludes every other writer of the
    /// stream (other processes included): runs `plan` and writes what it
    /// returns. All or nothing.
    async fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError>;
}
