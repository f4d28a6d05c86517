//! Where the server keeps models, stream heads and events.
//!
//! A backend implements [`Storage`]; [`sqlite::SqliteStorage`] is the
//! default, [`postgres::PostgresStorage`] serves several processes sharing
//! one PostgreSQL (or CockroachDB) database. [`open`] picks one by the
//! configured [`Database`].
//! The protocol logic (duplicates, head check, verification) lives once in
//! [`crate::append`] and runs inside [`Storage::append`]'s write transaction
//! through the small [`AppendTx`] view, so a PostgreSQL backend only has to
//! provide the same transaction (`SELECT ... FOR UPDATE` on the stream row
//! there, `BEGIN IMMEDIATE` here).
//!
//! Calls are blocking: the HTTP layer runs them on tokio's blocking pool.

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use petrichain::chain::Event;

use crate::config::{Config, Database};
use crate::error::ApiError;

/// Opens (creating and migrating it if needed) the database `config` names.
/// Blocking: call it from a blocking context.
pub fn open(config: &Config) -> Result<Arc<dyn Storage>, ApiError> {
    Ok(match &config.db {
        Database::Sqlite(path) => {
            Arc::new(sqlite::SqliteStorage::open_with(path, config.synchronous)?)
        }
        Database::Postgres(url) => {
            Arc::new(postgres::PostgresStorage::open(url, config.db_connections)?)
        }
    })
}

/// A stream's head as stored: where its chain ends and the marking there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    /// Stream id.
    pub id: String,
    /// Model id.
    pub model: String,
    /// Seq of the last event (0 for a stream without events).
    pub seq: u64,
    /// Hash of the last event (64 zeros for a stream without events).
    pub hash: String,
    /// Marking after the last event, in the model's place order.
    pub state: Vec<u64>,
}

/// What an append writes: the new head and the events leading to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The stream's new head (inserted if the stream is new).
    pub head: StreamHead,
    /// New events, in seq order, directly after the old head.
    pub events: Vec<Event>,
}

/// A page of events read in one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The stream's head when the page was read.
    pub head: StreamHead,
    /// Events with seq > after, in order.
    pub events: Vec<Event>,
    /// More events follow the last one returned.
    pub more: bool,
}

/// What the append logic may read inside the write transaction.
pub trait AppendTx {
    /// The stream's head, `None` if the stream does not exist.
    fn head(&mut self) -> Result<Option<StreamHead>, ApiError>;
    /// Hash of the stored event at `seq`, if any.
    fn hash_at(&mut self, seq: u64) -> Result<Option<String>, ApiError>;
}

/// The plan run inside [`Storage::append`]: reads through the view and
/// returns what to write (`None`: nothing), or an error to write nothing.
pub type Plan<'a> = dyn FnMut(&mut dyn AppendTx) -> Result<Option<Commit>, ApiError> + 'a;

/// A storage backend.
pub trait Storage: Send + Sync + 'static {
    /// Stores a model's canonical JSON; `true` if it was new (idempotent).
    fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError>;
    /// A model's canonical JSON.
    fn model(&self, id: &str) -> Result<Option<String>, ApiError>;
    /// A stream's head.
    fn head(&self, stream: &str) -> Result<Option<StreamHead>, ApiError>;
    /// Every stream's head, sorted by id.
    fn streams(&self) -> Result<Vec<StreamHead>, ApiError>;
    /// Up to `limit` events after `after`, with the head, in one snapshot;
    /// `None` if the stream does not exist.
    fn page(&self, stream: &str, after: u64, limit: u64) -> Result<Option<Page>, ApiError>;
    /// In one write transaction that excludes every other writer of the
    /// database (other processes included): runs `plan` and writes what it
    /// returns. All or nothing.
    fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError>;
}
