//! The sync client's HTTP transport with a stopwatch on the conditional
//! append: each `POST /events` answered 200 adds its round trip to the
//! append latencies, each 409 adds one to the head mismatches.

// The sync client's error type, as the core defines it.
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::time::{Duration, Instant};

use petrichain::sync::protocol::{AppendRequest, EventPage, ModelDoc, StreamList};
use petrichain::sync::{PushOutcome, SyncError, Transport};

use crate::transport::HttpTransport;

#[derive(Debug, Default)]
pub struct PushStats {
    /// Round trips of the appends the server stored.
    pub appended: Vec<Duration>,
    /// Appends answered 409 (another client moved the head first).
    pub mismatches: u64,
}

pub struct Timed {
    pub inner: HttpTransport,
    pub stats: RefCell<PushStats>,
}

impl Timed {
    pub fn new(inner: HttpTransport) -> Timed {
        Timed {
            inner,
            stats: RefCell::default(),
        }
    }
}

impl Transport for Timed {
    fn backend(&self) -> &str {
        self.inner.backend()
    }
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        self.inner.list_streams().await
    }
    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        self.inner.get_model(id).await
    }
    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        self.inner.put_model(doc).await
    }
    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        self.inner.pull(stream, after, limit).await
    }
    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        let start = Instant::now();
        let outcome = self.inner.push(stream, request).await;
        let mut stats = self.stats.borrow_mut();
        match &outcome {
            Ok(PushOutcome::Appended(_)) => stats.appended.push(start.elapsed()),
            Ok(PushOutcome::Conflict(_)) => stats.mismatches = stats.mismatches.saturating_add(1),
            Err(_) => {}
        }
        outcome
    }
}
