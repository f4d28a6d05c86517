//! The keyed state (marking, the keys' counts and their tries) of a
//! stream's head, which an append to a net with keyed places resumes its
//! [`Verifier`] from: the stored head holds only the marking.
//!
//! Why replay and not a table of keyed counts: the stored events already
//! say everything (the replay re-verifies them, so a stream altered in the
//! database is found, not built on), both backends stay as they are, and
//! the usual case costs nothing: the state is cached per stream in memory
//! and moved forward by this process's appends, so only the first append
//! after a start (or after another process appended) replays, and then
//! only the events after the cached head. A table would make every append
//! write one row per changed key and need its own migration and checks.
//! The cost of a miss is one verification of the events not cached
//! (docs/server.md "Keyed places").

use std::collections::HashMap;
use std::sync::Mutex;

use petrichain::chain::{TipState, Verifier};
use petrichain::model::Model;

use crate::error::ApiError;
use crate::routes::{MAX_PAGE, MAX_PAGE_BYTES};
use crate::storage::{Storage, StreamRecord};

/// Most streams whose keyed state is cached; past it the cache starts
/// over (the states are rebuilt on their next append). Each entry holds
/// one stream's keys, which its events created one by one.
pub const MAX_KEYED_STATES: usize = 256;

/// A stream's state at one head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedHead {
    /// Seq of the head.
    pub seq: u64,
    /// Hash of the head.
    pub hash: String,
    /// The state the chain reaches there.
    pub state: TipState,
}

/// Keyed states by stream, bounded by [`MAX_KEYED_STATES`].
#[derive(Default)]
pub struct KeyedStates {
    heads: Mutex<HashMap<String, KeyedHead>>,
}

impl KeyedStates {
    /// Remembers `head` as `stream`'s state (after an append this process
    /// wrote).
    pub fn remember(&self, stream: &str, head: KeyedHead) {
        let mut heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
        if heads.len() >= MAX_KEYED_STATES && !heads.contains_key(stream) {
            heads.clear();
        }
        heads.insert(stream.to_string(), head);
    }

    /// The state of `stream`'s stored head: the cached one moved forward
    /// by replaying (and verifying) the stored events after it, or all of
    /// them. `Ok(Err(problem))`: the stored events do not verify or do not
    /// end at the stored head (the storage was altered); `Ok(Ok(None))`:
    /// no such stream. A cached state that does not lead to the stored
    /// head is dropped and the chain replayed from its start: the cache
    /// only saves work, it never decides.
    pub async fn at_head(
        &self,
        storage: &dyn Storage,
        model: &Model,
        stream: &str,
    ) -> Result<Result<Option<(StreamRecord, KeyedHead)>, String>, ApiError> {
        let cached = {
            let heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
            heads.get(stream).cloned()
        };
        let mut found = replay(storage, model, stream, cached.as_ref()).await?;
        if found.is_err() && cached.is_some() {
            found = replay(storage, model, stream, None).await?;
        }
        match &found {
            Ok(Some((_, keyed))) => self.remember(stream, keyed.clone()),
            _ => self.forget(stream),
        }
        Ok(found)
    }

    fn forget(&self, stream: &str) {
        let mut heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
        heads.remove(stream);
    }
}

/// Replays the stored events of `stream` after `from` (from its start when
/// `None`), verifying them, up to the stored head.
async fn replay(
    storage: &dyn Storage,
    model: &Model,
    stream: &str,
    from: Option<&KeyedHead>,
) -> Result<Result<Option<(StreamRecord, KeyedHead)>, String>, ApiError> {
    let resumed = from
        .and_then(|c| Verifier::resume_state(model, stream, c.seq, &c.hash, c.state.clone()).ok());
    let mut verifier = resumed.unwrap_or_else(|| Verifier::new(model, stream));
    let mut after = verifier.seq();
    let head = loop {
        let Some(page) = storage
            .page(stream, after, MAX_PAGE, MAX_PAGE_BYTES)
            .await?
        else {
            return Ok(Ok(None));
        };
        if page.head.seq < verifier.seq() {
            return Ok(Err(format!(
                "the stored head is seq {}, behind seq {} replayed",
                page.head.seq,
                verifier.seq()
            )));
        }
        for e in &page.events {
            if let Err(err) = verifier.push(e) {
                return Ok(Err(format!("event {}: {} ({err})", e.seq, err.code())));
            }
        }
        match page.events.last() {
            Some(last) if page.more => after = last.seq,
            _ => break page.head,
        }
    };
    if let Err(err) = verifier.flush() {
        return Ok(Err(format!("{} ({err})", err.code())));
    }
    if verifier.seq() != head.seq || verifier.head() != head.hash {
        return Ok(Err(format!(
            "the stored head is seq {} {}, the chain ends at seq {} {}",
            head.seq,
            head.hash,
            verifier.seq(),
            verifier.head()
        )));
    }
    if verifier.marking().0 != head.state {
        return Ok(Err(format!(
            "the stored head marking {:?} is not the marking the chain reaches {:?}",
            head.state,
            verifier.marking().0
        )));
    }
    let keyed = KeyedHead {
        seq: head.seq,
        hash: head.hash.clone(),
        state: verifier.state().clone(),
    };
    Ok(Ok(Some((head, keyed))))
}
